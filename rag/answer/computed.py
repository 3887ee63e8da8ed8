"""Computed answers over table rows: a sum, total, average, count, highest, lowest, difference,
ratio, percent change or share of a total.

A quote cannot add two rows, so for such questions the rows are found in the retrieved tables,
each input row is quoted verbatim and cited (sheet and row), the arithmetic is exact (Decimal,
rag/answer/formulas.py), and the answer states the formula with its markers:
"1717641 [1] + 1812337 [2] = 3,529,978". The result is never shown as a quote; only the rows
are. A question that needs a row the table does not have, or a ratio to zero, is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.evidence import Evidence
from rag.answer.formulas import OPERATIONS, PAIRED, THRESHOLD, Ask, Operation, Undefined
from rag.answer.quotes import verified_quote
from rag.answer.refusal import NOT_FOUND
from rag.answer.table_rows import Table, TableRow, number, tables_of
from rag.terms import stem, words
from rag.types import Answer, Citation, Computation, Passage

MAX_INPUT_ROWS = 500  # rows one computed answer quotes; a larger table is summarised elsewhere
_HIGHEST = re.compile(r"\b(?:highest|largest|biggest|greatest|most|maximum|top)\b", re.I)
_LOWEST = re.compile(r"\b(?:lowest|smallest|least|fewest|minimum|bottom)\b", re.I)
_AVERAGE = re.compile(r"\b(?:average|mean)\b", re.I)
_COMPARATIVE = r"higher|more|lower|less|larger|smaller|bigger|greater|fewer"
_DIFFERENCE = re.compile(rf"\bhow (?:much|many) (?:{_COMPARATIVE})\b|\bdifference\b", re.I)
# "the ratio of A to B", "how many times larger is A than B": A / B.
_RATIO = re.compile(rf"\bratio\b|\bhow many times\b|\btimes (?:as|{_COMPARATIVE})\b", re.I)
_PERCENT = re.compile(r"\bper\s?cent(?:age)?\b|%", re.I)
# "by what percent did X change (grow, fall) from 2019 to 2020": (new - old) / old.
_CHANGE = re.compile(
    r"\b(?:chang|grow|grew|rise|rose|risen|increas|decreas|declin|fall|fell|drop|shr[iau]nk)\w*\b",
    re.I,
)
# "how much larger is A than B in percent", "by what percent is A higher than B": (A - B) / B.
_THAN = re.compile(rf"\b(?:{_COMPARATIVE})\b.*\bthan\b", re.I)
# "the combined X of A and B", "the sum of A and B": the question names the rows it adds.
_PAIRWISE = re.compile(r"\b(?:combined|together|sum of)\b.*\band\b", re.I)
_COUNT = re.compile(r"\bhow many\b|\bnumber of\b", re.I)
_SUM = re.compile(r"\b(?:combined|together|sum|total|altogether|overall)\b", re.I)
_YEARS = re.compile(
    r"\b(?:from|between)\s+(1\d{3}|20\d{2})\s+(?:to|and|until|through)\s+(1\d{3}|20\d{2})\b", re.I
)
_SHARE = re.compile(r"\bper\s?cent(?:age)?\b|%|\bshare\b|\bproportion\b|\bfraction\b", re.I)
_FROM_TO = re.compile(r"\bfrom\b.+\bto\b", re.I)
_HOW_MUCH = re.compile(r"\bhow (?:much|many)\b", re.I)


def computed_answer(evidence: Evidence) -> Answer | None:
    """The answer computed from quoted table rows, a refusal when a named row is missing or the
    result has no value (a ratio to zero), or None when the question is not about a table's numbers."""
    ask = _understand(evidence)
    if ask is None:
        return None
    passage = next(p for p in evidence.passages if p.document_id == ask.table.document.id)
    if ask.operation in ("lookup", "sum", *PAIRED) and ask.named and len(ask.rows) < ask.named:
        return _refused(
            evidence, f"The table {ask.table.name!r} has no row or column for every item the question names."
        )
    try:
        return _compose(evidence, ask, passage)
    except Undefined as error:
        return _refused(evidence, f"Not computed from the table {ask.table.name!r}: {error}")


def _refused(evidence: Evidence, notice: str) -> Answer:
    return Answer(
        evidence.question,
        NOT_FOUND,
        False,
        (),
        evidence.ranked,
        evidence.query,
        evidence.timings(),
        notice=notice,
    )


def _understand(evidence: Evidence) -> Ask | None:
    """The table and column the question names, the operation it asks for and the rows it needs."""
    question = evidence.query
    seen: set[str] = set()
    for passage in evidence.passages:
        if passage.document_id in seen:
            continue
        seen.add(passage.document_id)
        for table in tables_of(evidence.document(passage.document_id)):
            ask = _ask_of(question, table)
            if ask is not None:
                return ask
    return None


def _ask_of(question: str, table: Table) -> Ask | None:
    label = table.label_column()
    numeric = [column for column in table.columns if table.numeric(column) and column != label]
    column = _named_column(question, numeric)
    if column is None or label is None or not table.rows or len(table.rows) > MAX_INPUT_ROWS:
        return None
    named = _named_rows(question, table, label)
    rows, condition = _filtered(question, table, label, column)
    # "How much higher is the share percent of A than of B" asks for points, not a percent change.
    asked = _without_name(question, column)
    paired = _paired(asked)
    if paired is not None and named:
        return _pair(question, table, named, numeric, paired)
    years = _YEARS.search(question)
    if years and table.is_years(label):
        # "from 2019 to 2021" names every year between, not two rows.
        low, high = sorted(int(year) for year in years.groups())
        rows = tuple(row for row in rows if low <= int(row.cells[label]) <= high)
        condition = ", ".join(filter(None, (condition, f"{label} {low} to {high}")))
        named = []
    if _SHARE.search(asked) and _SUM.search(asked) and len(named) == 1 and named[0] in rows:
        # "What percentage of the total X is A's?": A, then every row of the total.
        return Ask(table, column, "share", (named[0], *rows), 0, condition)
    if _HIGHEST.search(question) and not named:
        return Ask(table, column, "max", rows, 0, condition)
    if _LOWEST.search(question) and not named:
        return Ask(table, column, "min", rows, 0, condition)
    if _AVERAGE.search(question):
        return Ask(table, column, "average", tuple(named) or rows, 0, condition)
    threshold = THRESHOLD.search(question)
    if _COUNT.search(question) and threshold:
        return Ask(table, column, "count", rows, 0, condition)
    if _SUM.search(question):
        if len(named) >= 2 or (_PAIRWISE.search(question) and not condition):
            return Ask(table, column, "sum", tuple(named), max(len(named), 2))
        return Ask(table, column, "sum", rows, 0, condition)
    if len(named) == 1:
        return Ask(table, column, "lookup", tuple(named), 1)
    return None


def _paired(question: str) -> tuple[Operation, bool] | None:
    """The operation over two inputs the question asks for, and whether its inputs are taken in
    the reverse of the order the question names them ("how much did it change from A to B": B - A)."""
    changes = bool(_CHANGE.search(question))
    if _PERCENT.search(question) and (changes or _THAN.search(question)):
        return ("change" if changes else "percent"), False
    if _RATIO.search(question):
        return "ratio", False
    if _DIFFERENCE.search(question):
        return "difference", False
    if changes and _FROM_TO.search(question) and _HOW_MUCH.search(question):
        return "difference", True
    return None


def _pair(
    question: str, table: Table, named: list[TableRow], numeric: Sequence[str], paired: tuple[Operation, bool]
) -> Ask:
    """Two inputs: one column of two named rows, or two named columns ("visitors 2019" and
    "visitors 2020") of one named row; fewer when the table lacks one (the answer is refused)."""
    operation, reverse = paired
    columns = _named_columns(question, numeric)
    step = -1 if reverse else 1
    if len(named) >= 2 or len(columns) < 2:
        column = _named_column(question, numeric) or numeric[0]
        return Ask(table, column, operation, tuple(named[:2])[::step], 2)
    pair = tuple(columns[:2])[::step]
    return Ask(table, pair[0], operation, (named[0], named[0]), 2, columns=pair)


def _without_name(question: str, column: str) -> str:
    """The question without the first mention of the column's name."""
    name = r"[\s_-]+".join(re.escape(word) for word in words(column.replace("_", " ")))
    return re.sub(name, " ", question, count=1, flags=re.I) if name else question


def _tokens(text: str) -> list[str]:
    return [stem(word) for word in words(text.replace("_", " "))]


def _named_column(question: str, columns: Sequence[str]) -> str | None:
    """The column whose words (but for its numbers) all stand in the question: the one whose
    numbers stand there too, then the longest name."""
    asked = set(_tokens(question))
    found = [
        column
        for column in columns
        if (names := [token for token in _tokens(column) if not token.isdigit()] or _tokens(column))
        and set(names) <= asked
    ]
    return max(found, key=lambda column: (set(_tokens(column)) <= asked, len(_tokens(column))), default=None)


def _named_columns(question: str, columns: Sequence[str]) -> list[str]:
    """The columns whose words, numbers included, all stand in the question, in the order the
    question names them ("from 2019 to 2020")."""
    asked = _tokens(question)
    found = [column for column in columns if set(tokens := _tokens(column)) <= set(asked) and tokens]
    return sorted(found, key=lambda column: max(asked.index(token) for token in _tokens(column)))


def _mentions(question: str, value: str) -> bool:
    return bool(value) and re.search(rf"(?<!\w){re.escape(value)}(?!\w)", question, re.I) is not None


def _named_rows(question: str, table: Table, label: str) -> list[TableRow]:
    """The rows whose name the question mentions, in the order the question mentions them."""
    found = []
    for row in table.rows:
        name = row.cells.get(label, "")
        if len(name) > 1 and _mentions(question, name):
            found.append((question.lower().find(name.lower()), -len(name), row))
    found.sort(key=lambda item: (item[0], item[1]))
    taken: list[tuple[int, int]] = []
    rows = []
    for position, negative_length, row in found:
        if any(start <= position < end for start, end in taken):
            continue  # "Town" inside "Old Town"
        taken.append((position, position - negative_length))
        rows.append(row)
    return rows


def _filtered(question: str, table: Table, label: str, column: str) -> tuple[tuple[TableRow, ...], str]:
    """The rows a condition of the question keeps: a category ("with floor North") or a threshold
    on the asked column ("above 1,410,998"); all rows without one."""
    rows = list(table.rows)
    conditions = []
    for other in table.columns:
        if other in (label, column) or table.numeric(other):
            continue
        values = {row.cells.get(other, "") for row in rows}
        chosen = [value for value in values if len(value) > 1 and _mentions(question, value)]
        if chosen:
            rows = [row for row in rows if row.cells.get(other, "") in chosen]
            conditions.append(f"{other} {' or '.join(sorted(chosen))}")
    threshold = THRESHOLD.search(question)
    if threshold and _COUNT.search(question):
        conditions.append(f"{column} {threshold.group(1).lower()} {threshold.group(2).strip()}")
    return tuple(row for row in rows if number(row.cells.get(column, "")) is not None), ", ".join(conditions)


class _Citer:
    """Numbers the input rows in the order they are cited, each a verified quote of its row."""

    def __init__(self, ask: Ask, passage: Passage) -> None:
        self.ask = ask
        self.passage = passage
        self.markers: dict[int, int] = {}
        self.citations: list[Citation] = []

    def __call__(self, row: TableRow, column: str) -> str:
        """The row's value in the column as it reads, with the row's [n] marker."""
        if row.start not in self.markers:
            self.markers[row.start] = len(self.markers) + 1
            self.citations.append(self._citation(row, self.markers[row.start]))
        return f"{row.cells[column]} [{self.markers[row.start]}]"

    def _citation(self, row: TableRow, marker: int) -> Citation:
        document, passage = self.ask.table.document, self.passage
        return Citation(
            marker,
            passage.source,
            passage.title,
            document.page_at(row.start),
            verified_quote(document, row.start, row.end),
            passage.rank,
            1.0,
            document.location_at(row.start),
            passage.collection,
        )


def _compose(evidence: Evidence, ask: Ask, passage: Passage) -> Answer | None:
    """The answer text with a marker after each input value, its citations and the computation."""
    values = [number(value) for value in ask.values()]
    if not ask.rows or any(value is None for value in values):
        return None
    cite = _Citer(ask, passage)
    numbers = [value for value in values if value is not None]
    worded = OPERATIONS[ask.operation](ask, numbers, cite, evidence.query)
    if worded is None:
        return None
    computation = Computation(
        ask.operation, ask.column, worded.formula, worded.result, ask.table.name, worded.rounding
    )
    return Answer(
        evidence.question,
        worded.text,
        True,
        tuple(cite.citations),
        evidence.ranked,
        evidence.query,
        evidence.timings(),
        mode="computed",
        # A total over a table that may go on where its rows are not known says so.
        notice=" ".join(filter(None, (evidence.notice, "" if ask.named else ask.table.note))),
        computation=computation,
    )
