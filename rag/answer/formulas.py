"""Each table operation computed exactly (Decimal) and written as a formula of its quoted inputs.

An input is written as it reads in its row, followed by its row's [n] marker: "1812337 [1]".
A result that does not end within MAX_DECIMALS places is rounded half to even to two, written
with "≈", and the answer says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from rag.answer.table_rows import Table, TableRow, number

Operation = Literal[
    "lookup", "sum", "average", "count", "max", "min", "difference", "ratio", "change", "percent", "share"
]
# The operations over two inputs where the second (ratio, percent) or first (change) is divided by.
PAIRED: frozenset[str] = frozenset({"difference", "ratio", "change", "percent"})
MAX_DECIMALS = 4  # an exact result is shown whole up to this many decimal places
ROUNDED = "rounded half to even to two decimals"
_ABOVE = r"above|over|more than|greater than|higher than|larger than|exceeding|at least"
_BELOW = r"below|under|less than|fewer than|lower than|smaller than|at most"
THRESHOLD = re.compile(rf"\b({_ABOVE}|{_BELOW})\s+([-−]?[€$£]?\d[\d,.\s]*\d|\d)", re.I)
_INCLUSIVE = ("at least", "at most")


@dataclass(frozen=True)
class Ask:
    """What a table question asks: an operation over one column of some rows of one table."""

    table: Table
    column: str
    operation: Operation
    rows: tuple[TableRow, ...]  # the rows it is computed over, in the order they matter
    named: int  # how many inputs the question names (a lookup or a pair needs them all)
    condition: str = ""  # "floor North", "budget_eur above 1,410,998"
    # The column of each input when they differ: one row's "visitors 2019" and "visitors 2020".
    columns: tuple[str, ...] = ()

    def column_of(self, index: int) -> str:
        """The column the index-th input is read from."""
        return self.columns[index] if self.columns else self.column

    def values(self) -> list[str]:
        """Each input cell as it reads in its row."""
        return [row.cells.get(self.column_of(index), "") for index, row in enumerate(self.rows)]

    def label(self, index: int) -> str:
        """What the index-th input is called: its row's name, or its column's when one row gives both."""
        if self.columns:
            return self.columns[index]
        return self.rows[index].cells.get(self.table.label_column() or self.column, "")

    def subject(self) -> str:
        """What the inputs are values of: the column, or the one row's name."""
        if self.columns:
            return self.rows[0].cells.get(self.table.label_column() or self.column, "")
        return self.column


class Undefined(ValueError):
    """The operation has no value for these inputs (a ratio to zero); the message says why."""


@dataclass(frozen=True)
class Figure:
    """A computed number as people write it, and whether it was rounded."""

    text: str
    rounded: bool

    @property
    def result(self) -> str:
        """The number, "≈"-marked when rounded."""
        return f"≈ {self.text}" if self.rounded else self.text

    @property
    def equals(self) -> str:
        """ "= 3,529,978", or "≈ 5.51" when rounded."""
        return f"≈ {self.text}" if self.rounded else f"= {self.text}"


def figure(value: Decimal) -> Figure:
    """An exact result, thousands separated; one that does not end within MAX_DECIMALS places is
    rounded half to even to two."""
    if value == value.to_integral_value():
        return Figure(f"{int(value):,}", False)
    exact = value.quantize(Decimal(1).scaleb(-MAX_DECIMALS))
    if exact == value:
        return Figure(f"{exact.normalize():,f}", False)
    return Figure(f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,}", True)


@dataclass(frozen=True)
class Worded:
    """An operation's answer text, its formula, its result and how the result was rounded."""

    text: str
    formula: str
    result: str
    rounding: str = ""


# Writes an input as it reads in its row with the row's marker: cite(row, column) -> "1812337 [1]".
Cite = Callable[[TableRow, str], str]


def _scope(ask: Ask) -> str:
    return f" ({ask.condition})" if ask.condition else ""


def _rounding(result: Figure) -> tuple[str, str]:
    """The sentence that says a result was rounded, and the rounding for the computation."""
    return (f" ({ROUNDED})", ROUNDED) if result.rounded else ("", "")


def _lookup(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    row = ask.rows[0]
    formula = f"{ask.column} of {ask.label(0)}: {cite(row, ask.column)}"
    return Worded(formula, formula, row.cells[ask.column])


def _difference(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    result = figure(numbers[0] - numbers[1])
    formula = f"{cite(ask.rows[0], ask.column_of(0))} − {cite(ask.rows[1], ask.column_of(1))} {result.equals}"
    text = f"{ask.subject()} of {ask.label(0)} minus {ask.label(1)}: {formula}"
    return Worded(text, formula, result.result)


def _ratio(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    _refuse_zero(ask, numbers[1], 1, "a ratio to zero")
    result = figure(numbers[0] / numbers[1])
    formula = f"{cite(ask.rows[0], ask.column_of(0))} / {cite(ask.rows[1], ask.column_of(1))} {result.equals}"
    note, rounding = _rounding(result)
    text = f"Ratio of {ask.label(0)} to {ask.label(1)} ({ask.subject()}): {formula}{note}"
    return Worded(text, formula, result.result, rounding)


def _change(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    _refuse_zero(ask, numbers[0], 0, "a percent change from zero")
    result = figure((numbers[1] - numbers[0]) / abs(numbers[0]) * 100)
    base, new = cite(ask.rows[0], ask.column_of(0)), cite(ask.rows[1], ask.column_of(1))
    formula = f"({new} − {base}) / {_magnitude(base, numbers[0])} × 100 {result.equals} %"
    note, rounding = _rounding(result)
    text = f"Change in {ask.subject()} from {ask.label(0)} to {ask.label(1)}: {formula}{note}"
    return Worded(text, formula, f"{result.result} %", rounding)


def _percent(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    _refuse_zero(ask, numbers[1], 1, "a percentage of zero")
    result = figure((numbers[0] - numbers[1]) / abs(numbers[1]) * 100)
    compared, base = cite(ask.rows[0], ask.column_of(0)), cite(ask.rows[1], ask.column_of(1))
    formula = f"({compared} − {base}) / {_magnitude(base, numbers[1])} × 100 {result.equals} %"
    note, rounding = _rounding(result)
    direction = "more" if numbers[0] >= numbers[1] else "less"
    text = (
        f"{ask.subject()} of {ask.label(0)} is {result.text.lstrip('-')} % {direction} than that of"
        f" {ask.label(1)}: {formula}{note}"
    )
    return Worded(text, formula, f"{result.result} %", rounding)


def _magnitude(cited: str, value: Decimal) -> str:
    """A base as the formula divides by it: a negative one by its size ("|-200 [1]|"), so that a
    rise reads as a positive change."""
    return f"|{cited}|" if value < 0 else cited


def _share(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    """The first row's part of the total of all the rows (the first among them), in percent."""
    total = sum(numbers[1:], Decimal(0))
    if total == 0:
        raise Undefined(f"the total {ask.column}{_scope(ask)} is 0, and a share of zero has no value.")
    result = figure(numbers[0] / total * 100)
    part = cite(ask.rows[0], ask.column)
    formula = (
        f"{part} / ({' + '.join(cite(row, ask.column) for row in ask.rows[1:])}) × 100 {result.equals} %"
    )
    note, rounding = _rounding(result)
    text = (
        f"Share of {ask.label(0)} in the total {ask.column} of {len(ask.rows) - 1} rows{_scope(ask)}:"
        f" {formula}{note}"
    )
    return Worded(text, formula, f"{result.result} %", rounding)


def _refuse_zero(ask: Ask, value: Decimal, index: int, what: str) -> None:
    if value == 0:
        raise Undefined(
            f"{ask.subject()} of {ask.label(index)} is {ask.values()[index]}, and {what} has no value."
        )


def _sum(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    result = figure(sum(numbers, Decimal(0)))
    formula = f"{' + '.join(cite(row, ask.column) for row in ask.rows)} {result.equals}"
    return Worded(
        f"Total {ask.column} of {len(ask.rows)} rows{_scope(ask)}: {formula}", formula, result.result
    )


def _average(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    result = figure(sum(numbers, Decimal(0)) / len(numbers))
    formula = f"({' + '.join(cite(row, ask.column) for row in ask.rows)}) / {len(ask.rows)} {result.equals}"
    note, rounding = _rounding(result)
    text = f"Average {ask.column} of {len(ask.rows)} rows{_scope(ask)}: {formula}{note}"
    return Worded(text, formula, result.result, rounding)


def _extreme(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded:
    pick = max if ask.operation == "max" else min
    best = pick(range(len(numbers)), key=lambda index: numbers[index])
    word = "highest" if ask.operation == "max" else "lowest"
    first = cite(ask.rows[best], ask.column)
    others = ", ".join(cite(row, ask.column) for index, row in enumerate(ask.rows) if index != best)
    formula = f"{word} of {first}{', ' + others if others else ''}"
    text = f"{ask.label(best)} has the {word} {ask.column}{_scope(ask)}: {first}"
    if others:
        text = f"{text}; the other {len(ask.rows) - 1} rows: {others}"
    return Worded(text, formula, ask.label(best))


def _count(ask: Ask, numbers: list[Decimal], cite: Cite, question: str) -> Worded | None:
    threshold = THRESHOLD.search(question)
    limit = number(threshold.group(2)) if threshold else None
    if threshold is None or limit is None:
        return None
    keep = _comparison(threshold.group(1).lower(), limit)
    matching = [row for row, value in zip(ask.rows, numbers, strict=True) if keep(value)]
    rest = [row for row, value in zip(ask.rows, numbers, strict=True) if not keep(value)]
    result = str(len(matching))
    listed = ", ".join(cite(row, ask.column) for row in matching) or "none"
    formula = f"{result} of {len(ask.rows)}: {listed}"
    text = f"{result} of {len(ask.rows)} rows have {ask.condition}: {listed}"
    if rest:
        text = f"{text}; not: {', '.join(cite(row, ask.column) for row in rest)}"
    return Worded(text, formula, result)


OPERATIONS: dict[str, Callable[[Ask, list[Decimal], Cite, str], Worded | None]] = {
    "lookup": _lookup,
    "difference": _difference,
    "ratio": _ratio,
    "change": _change,
    "percent": _percent,
    "share": _share,
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
