from __future__ import annotations

from rag.answer.sentences import sentences_around, split_sentences


def test_abbreviations_do_not_end_sentences_and_offsets_hold() -> None:
    text = "  Dr. Smith went to Washington. He met the U.S. envoy on Nov. 9 in Moscow!  Why? Nobody knows.\n"
    spans = split_sentences(text)
    assert [span.text for span in spans] == [
        "Dr. Smith went to Washington.",
        "He met the U.S. envoy on Nov. 9 in Moscow!",
        "Nobody knows.",
    ]
    for span in spans:
        assert text[span.start : span.end] == span.text


def test_wrapped_prose_is_not_cut_at_line_breaks() -> None:
    text = "Verbatim reads plain text files, Markdown files and HTML pages and also PDF\n(.pdf) files.\n"
    assert [span.text for span in split_sentences(text)] == [text.strip()]


def test_short_lines_and_list_items_are_their_own_sentences() -> None:
    text = "The Big Picture\nThe war goes on in the long-running conflict zone.\n- first item here\n- second item here\n"
    texts = [span.text for span in split_sentences(text)]
    assert texts == [
        "The Big Picture",
        "The war goes on in the long-running conflict zone.",
        "- first item here",
        "- second item here",
    ]


def test_sentences_around_widens_a_cut_chunk_to_whole_sentences() -> None:
    text = "First sentence is here. Second sentence is rather long and important. Third one ends."
    middle = text.index("rather")
    spans = sentences_around(text, middle, middle + 10)
    assert [span.text for span in spans] == ["Second sentence is rather long and important."]
