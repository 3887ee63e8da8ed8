"""Anchors of a regular expression: strings one of which every match holds."""

from __future__ import annotations

import re

import pytest

from rag.search.anchors import anchors


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bpretend (?:to be|you are)\b", {"pretend to be", "pretend you are"}),
        (r"\b(?:ignore|disregard)\b[^.!?\n]{0,40}\binstructions?\b", {"instruction"}),
        (r"\bdo not (?:tell|reveal)\b|\byou are now\b", {"do not tell", "do not reveal", "you are now"}),
        (r"(?:dear )?(?:ai|assistant)s?\s*[:,]", {"ai", "assistant"}),
        (r"\d+ (?:apples|pears)", {" apples", " pears"}),
    ],
)
def test_anchors_are_the_strings_every_match_holds(pattern: str, expected: set[str]) -> None:
    assert anchors(pattern, re.IGNORECASE) == expected


@pytest.mark.parametrize("pattern", [r"\d+", r"apple|\w+", r"(?:ab)?c*", r"[^.]{3}", ""])
def test_a_pattern_that_needs_no_string_has_no_anchors(pattern: str) -> None:
    assert anchors(pattern) is None


def test_every_match_holds_an_anchor() -> None:
    pattern = r"\b(?:new|real) (?:rules?|orders?)\b|(?:hey |dear )?bots?\s*:|x+y{2,}z"
    texts = ["New rule", "real orders", "dear bot :", "bots:", "xxxyyz", "xyyyz", "a new order here"]
    found = anchors(pattern, re.IGNORECASE)
    assert found is not None
    for text in texts:
        match = re.search(pattern, text, re.IGNORECASE)
        assert match is not None, text
        assert any(needed in match.group().lower() for needed in found), text
