"""Words, stop words and the light stemmer."""

from __future__ import annotations

from rag.terms import words


def test_words_are_lower_case_and_keep_an_apostrophe_of_either_kind_as_one() -> None:
    assert words("It’s the Harbour’s crane, isn't it?") == [
        "it's",
        "the",
        "harbour's",
        "crane",
        "isn't",
        "it",
    ]
    assert words("Dockworkers use 4 blue cranes") == ["dockworkers", "use", "4", "blue", "cranes"]
