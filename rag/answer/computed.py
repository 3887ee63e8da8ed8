"""Computed answers over table rows: a sum, total, average, count, highest, lowest or difference.

A quote cannot add two rows, so for such questions the rows are found in the retrieved tables,
each input row is quoted verbatim and cited (sheet and row), the arithmetic is exact (Decimal),
and the answer states the formula with its markers: "1717641 [1] + 1812337 [2] = 3,529,978".
The result is never shown as a quote; only the rows are. A question that needs a row the table
does not have is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from rag.answer.evidence import Evidence
from rag.answer.quotes import verified_quote
from rag.answer.refusal import NOT_FOUND
from rag.answer.table_rows import Table, TableRow, number, tables_of
from rag.terms import stem, words
from rag.types import Answer, Citation, Computation, Passage

MAX_DECIMALS = 4  # an exact result is shown whole up to this many decimal places
MAX_INPUT_ROWS = 500  # rows one computed answer quotes; a larger table is summarised elsewhere
_HIGHEST = re.compile(r"\b(?:highest|largest|biggest|greatest|most|maximum|top)\b", re.I)
_LOWEST = re.compile(r"\b(?:lowest|smallest|least|fewest|minimum|bottom)\b", re.I)
_AVERAGE = re.compile(r"\b(?:average|mean)\b", re.I)
_DIFFERENCE = re.compile(
    r"\bhow (?:much|many) (?:higher|more|lower|less|larger|smaller|bigger|greater|fewer)\b|\bdifference\b",
    re.I,
)
# "the combined X of A and B", "the sum of A and B": the question names the rows it adds.
_PAIRWISE = re.compile(r"\b(?:combined|together|sum of)\b.*\band\b", re.I)
_COUNT = re.compile(r"\bhow many\b|\bnumber of\b", re.I)
_SUM = re.compile(r"\b(?:combined|together|sum|total|altogether|overall)\b", re.I)
_ABOVE = r"above|over|more than|greater than|higher than|larger than|exceeding|at least"
_BELOW = r"below|under|less than|fewer than|lower than|smaller than|at most"
_THRESHOLD = re.compile(rf"\b({_ABOVE}|{_BELOW})\s+([-−]?[€$£]?\d[\d,.\s]*\d|\d)", re.I)
_INCLUSIVE = ("at least", "at most")


@dataclass(frozen=True)
class _Ask:
    """What a table question asks: an operation over one column of some rows of one table."""

    table: Table
    column: str
    operation: str  # lookup, sum, average, count, max, min, difference
    rows: tuple[TableRow, ...]  # the rows it is computed over, in the order they matter
    named: int  # how many rows the question names (a lookup or difference needs them all)
    condition: str = ""  # "floor North", "budget_eur above 1,410,998"


def computed_answer(evidence: Evidence) -> Answer | None:
    """The answer computed from quoted table rows, a refusal when a named row is missing, or None
    when the question is not a question about a table's numbers."""
    ask = _understand(evidence)
    if ask is None:
        return None
    passage = next(p for p in evidence.passages if p.document_id == ask.table.document.id)
    if ask.operation in ("lookup", "difference", "sum") and ask.named and len(ask.rows) < ask.named:
        notice = f"The table {ask.table.name!r} has no row for every item the question names."
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
    return _compose(evidence, ask, passage)


def _understand(evidence: Evidence) -> _Ask | None:
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


def _ask_of(question: str, table: Table) -> _Ask | None:
    numeric = [column for column in table.columns if table.numeric(column)]
    column = _named_column(question, numeric)
    label = table.label_column()
    if column is None or label is None or not table.rows or len(table.rows) > MAX_INPUT_ROWS:
        return None
    named = _named_rows(question, table, label)
    rows, condition = _filtered(question, table, label, column)
    if _DIFFERENCE.search(question) and len(named) >= 1:
        return _Ask(table, column, "difference", tuple(named[:2]), 2)
    if _HIGHEST.search(question) and not named:
        return _Ask(table, column, "max", rows, 0, condition)
    if _LOWEST.search(question) and not named:
        return _Ask(table, column, "min", rows, 0, condition)
    if _AVERAGE.search(question):
        return _Ask(table, column, "average", tuple(named) or rows, 0, condition)
    threshold = _THRESHOLD.search(question)
    if _COUNT.search(question) and threshold:
        return _Ask(table, column, "count", rows, 0, condition)
    if _SUM.search(question):
        if len(named) >= 2 or (_PAIRWISE.search(question) and not condition):
            return _Ask(table, column, "sum", tuple(named), max(len(named), 2))
        return _Ask(table, column, "sum", rows, 0, condition)
    if len(named) == 1:
        return _Ask(table, column, "lookup", tuple(named), 1)
    return None


def _tokens(text: str) -> list[str]:
    return [stem(word) for word in words(text.replace("_", " "))]


def _named_column(question: str, columns: Sequence[str]) -> str | None:
    """The column whose words all stand in the question (the longest such name)."""
    asked = set(_tokens(question))
    found = [
        column
        for column in columns
        if (names := [token for token in _tokens(column) if not token.isdigit()] or _tokens(column))
        and set(names) <= asked
    ]
    return max(found, key=lambda column: len(_tokens(column)), default=None)


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
    threshold = _THRESHOLD.search(question)
    if threshold and _COUNT.search(question):
        conditions.append(f"{column} {threshold.group(1).lower()} {threshold.group(2).strip()}")
    return tuple(row for row in rows if number(row.cells.get(column, "")) is not None), ", ".join(conditions)


class _Citer:
    """Numbers the input rows in the order they are cited, each a verified quote of its row."""

    def __init__(self, ask: _Ask, passage: Passage) -> None:
        self.ask = ask
        self.passage = passage
        self.markers: dict[int, int] = {}
        self.citations: list[Citation] = []

    def __call__(self, row: TableRow) -> str:
        """The row's value in the asked column as it reads, with the row's [n] marker."""
        if row.start not in self.markers:
            self.markers[row.start] = len(self.markers) + 1
            self.citations.append(self._citation(row, self.markers[row.start]))
        return f"{row.cells[self.ask.column]} [{self.markers[row.start]}]"

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


def _compose(evidence: Evidence, ask: _Ask, passage: Passage) -> Answer | None:
    """The answer text with a marker after each input value, its citations and the computation."""
    values = [number(row.cells[ask.column]) for row in ask.rows]
    if not ask.rows or any(value is None for value in values):
        return None
    cite = _Citer(ask, passage)
    numbers = [value for value in values if value is not None]
    worded = _OPERATIONS[ask.operation](ask, numbers, cite, evidence.query)
    if worded is None:
        return None
    text, formula, result = worded
    computation = Computation(ask.operation, ask.column, formula, result, ask.table.name)
    return Answer(
        evidence.question,
        text,
        True,
        tuple(cite.citations),
        evidence.ranked,
        evidence.query,
        evidence.timings(),
        mode="computed",
        notice=evidence.notice,
        computation=computation,
    )


# (answer text, formula, result) of each operation, or None when it cannot be computed.
Worded = tuple[str, str, str] | None


def _name(ask: _Ask, row: TableRow) -> str:
    return row.cells.get(ask.table.label_column() or ask.column, "")


def _scope(ask: _Ask) -> str:
    return f" ({ask.condition})" if ask.condition else ""


def _lookup(ask: _Ask, numbers: list[Decimal], cite: _Citer, question: str) -> Worded:
    row = ask.rows[0]
    formula = f"{ask.column} of {_name(ask, row)}: {cite(row)}"
    return formula, formula, row.cells[ask.column]


def _difference(ask: _Ask, numbers: list[Decimal], cite: _Citer, question: str) -> Worded:
    if len(ask.rows) < 2:
        return None
    first, second = ask.rows[:2]
    result = _format(numbers[0] - numbers[1])
    formula = f"{cite(first)} − {cite(second)} = {result}"
    return f"{ask.column} of {_name(ask, first)} minus {_name(ask, second)}: {formula}", formula, result


def _sum(ask: _Ask, numbers: list[Decimal], cite: _Citer, question: str) -> Worded:
    result = _format(sum(numbers, Decimal(0)))
    formula = f"{' + '.join(cite(row) for row in ask.rows)} = {result}"
    return f"Total {ask.column} of {len(ask.rows)} rows{_scope(ask)}: {formula}", formula, result


def _average(ask: _Ask, numbers: list[Decimal], cite: _Citer, question: str) -> Worded:
    result = _format(sum(numbers, Decimal(0)) / len(numbers))
    formula = f"({' + '.join(cite(row) for row in ask.rows)}) / {len(ask.rows)} = {result}"
    return f"Average {ask.column} of {len(ask.rows)} rows{_scope(ask)}: {formula}", formula, result


def _extreme(ask: _Ask, numbers: list[Decimal], cite: _Citer, question: str) -> Worded:
    pick = max if ask.operation == "max" else min
    best = pick(range(len(numbers)), key=lambda index: numbers[index])
    winner = ask.rows[best]
    word = "highest" if ask.operation == "max" else "lowest"
    first = cite(winner)
    others = ", ".join(cite(row) for index, row in enumerate(ask.rows) if index != best)
    formula = f"{word} of {first}{', ' + others if others else ''}"
    text = f"{_name(ask, winner)} has the {word} {ask.column}{_scope(ask)}: {first}"
    return (
        (f"{text}; the other {len(ask.rows) - 1} rows: {others}" if others else text),
        formula,
        _name(ask, winner),
    )


def _count(ask: _Ask, numbers: list[Decimal], cite: _Citer, question: str) -> Worded:
    threshold = _THRESHOLD.search(question)
    limit = number(threshold.group(2)) if threshold else None
    if threshold is None or limit is None:
        return None
    keep = _comparison(threshold.group(1).lower(), limit)
    matching = [row for row, value in zip(ask.rows, numbers, strict=True) if keep(value)]
    rest = [row for row, value in zip(ask.rows, numbers, strict=True) if not keep(value)]
    result = str(len(matching))
    listed = ", ".join(cite(row) for row in matching) or "none"
    formula = f"{result} of {len(ask.rows)}: {listed}"
    text = f"{result} of {len(ask.rows)} rows have {ask.condition}: {listed}"
    return (f"{text}; not: {', '.join(cite(row) for row in rest)}" if rest else text), formula, result


_OPERATIONS: dict[str, Callable[[_Ask, list[Decimal], _Citer, str], Worded]] = {
    "lookup": _lookup,
    "difference": _difference,
    "sum": _sum,
    "average": _average,
    "max": _extreme,
    "min": _extreme,
    "count": _count,
}


def _comparison(word: str, limit: Decimal) -> Callable[[Decimal], bool]:
    inclusive = word in _INCLUSIVE
    if re.fullmatch(_ABOVE, word):
        return (lambda value: value >= limit) if inclusive else (lambda value: value > limit)
    return (lambda value: value <= limit) if inclusive else (lambda value: value < limit)


def _format(value: Decimal) -> str:
    """An exact result as people write it, thousands separated; a quotient that does not end
    within MAX_DECIMALS places is rounded to two and marked so ("≈ 22.45")."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    exact = value.quantize(Decimal(1).scaleb(-MAX_DECIMALS))
    if exact == value:
        return f"{exact.normalize():,f}"
    return f"≈ {value.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,}"
