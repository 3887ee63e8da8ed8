"""Anchors of a regular expression: strings one of which every match of it contains.

A text that holds none of a pattern's anchors cannot match it, so a cheap substring test can
skip the pattern's search. The anchors are read from the pattern's own parse tree, so they
follow any change to the pattern.
"""

from __future__ import annotations

import importlib
from typing import Any

# The standard library's own parser: the anchors come from the same tree the matcher runs. It is
# a private module (Python 3.11 on); without it no pattern has anchors, and each is searched.
try:
    _parser: Any = importlib.import_module("re._parser")
    _codes: Any = importlib.import_module("re._constants")
except ImportError:  # a Python that moved it
    _parser = _codes = None

# Above this many, the strings a part can match are no longer spelled out one by one.
MOST_FORMS = 64
Strings = frozenset[str]


def anchors(pattern: str, flags: int = 0) -> Strings | None:
    """Strings one of which every match of pattern holds (in the pattern's letter case), or None
    when no string is needed (say `\\d+`); of the sets the pattern's parts give, the one
    cheapest to test."""
    if _parser is None:
        return None
    found = _sequence(list(_parser.parse(pattern, flags)))[1]
    # A string that holds another anchor adds nothing: a text with it holds the shorter one too.
    return found and frozenset(text for text in found if not any(other in text for other in found - {text}))


def _sequence(items: list[tuple[Any, Any]]) -> tuple[Strings | None, Strings | None]:
    """(the strings the sequence can match, when few; the best anchors of it)."""
    best: Strings | None = None
    run: Strings | None = frozenset({""})  # what the parts since the last open one can match
    whole = True
    for code, argument in items:
        if code is _codes.AT:  # zero width: the strings on either side stay adjacent
            continue
        forms, needed = _item(code, argument)
        best = _better(best, needed)  # a part's own strings may be fewer than the run's
        if forms is not None and run is not None and len(run) * len(forms) <= MOST_FORMS:
            run = frozenset(before + after for before in run for after in forms)
            continue
        whole = False
        best = _better(best, run)
        run = forms if forms is not None else frozenset({""})
    best = _better(best, run)
    return (run if whole else None), best


def _item(code: Any, argument: Any) -> tuple[Strings | None, Strings | None]:
    """(the strings one parsed item can match, when few; its anchors)."""
    if code is _codes.LITERAL:
        return frozenset({chr(argument)}), frozenset({chr(argument)})
    if code is _codes.SUBPATTERN:
        return _sequence(list(argument[-1]))
    if code is _codes.IN:
        if all(member is _codes.LITERAL for member, _ in argument):
            characters = frozenset(chr(value) for _, value in argument)
            return characters, characters
        return None, None
    if code is _codes.BRANCH:
        parts = [_sequence(list(branch)) for branch in argument[1]]
        return _union([forms for forms, _ in parts]), _union([needed for _, needed in parts])
    if code in (_codes.MAX_REPEAT, _codes.MIN_REPEAT, _codes.POSSESSIVE_REPEAT):
        least, most, repeated = argument
        forms, needed = _sequence(list(repeated))
        if least == 0:
            # "x?" matches "" or x; a longer repeat is not spelled out.
            return (forms | {""} if forms is not None and most == 1 else None), None
        return (forms if least == most == 1 else None), needed
    return None, None


def _union(sets: list[Strings | None]) -> Strings | None:
    if any(strings is None for strings in sets):
        return None
    joined = frozenset().union(*[strings for strings in sets if strings is not None])
    return joined if len(joined) <= MOST_FORMS else None


def _better(first: Strings | None, second: Strings | None) -> Strings | None:
    """The cheaper of two anchor sets to test: fewer strings once the shortest has four characters
    (a text rarely holds one), else the longer shortest string."""
    candidates = [strings for strings in (first, second) if strings and "" not in strings]
    if not candidates:
        return None
    return max(candidates, key=_cost)


def _cost(strings: Strings) -> tuple[int, int, int]:
    shortest = min(map(len, strings))
    return min(4, shortest), -len(strings), shortest
