"""Page geometry: stored offsets matched to character boxes, stored compactly, read back per quote."""

from __future__ import annotations

import numpy as np

from rag.pages.geometry import SCALE, decode, encode, merged_per_line, quote_boxes, text_layer_runs


def boxes_of(extracted: str, line_height: float = 0.02) -> list[tuple[float, float, float, float] | None]:
    """A box per character: one line per extracted line, 0.01 of the page per character."""
    boxes: list[tuple[float, float, float, float] | None] = []
    line = column = 0
    for character in extracted:
        if character == "\n":
            line, column = line + 1, 0
            boxes.append(None)
            continue
        top = 0.1 + line * line_height
        box = (0.1 + column * 0.01, top, 0.11 + column * 0.01, top + line_height * 0.8)
        boxes.append(None if character == " " else box)
        column += 1
    return boxes


def covered_offsets(runs: tuple[int, ...]) -> set[int]:
    table = np.asarray(runs).reshape(-1, 6)
    return {offset for start, end, *_ in table.tolist() for offset in range(start, end)}


def test_only_the_stored_characters_the_page_shows_get_a_box() -> None:
    extracted = "The north bridge\nwas repainted"
    stored = "The north\nbridge was  repainted"  # the extractions broke and spaced the lines apart
    covered = covered_offsets(text_layer_runs(stored, 100, extracted, boxes_of(extracted)))
    visible = {100 + index for index, character in enumerate(stored) if not character.isspace()}
    assert covered == visible


def test_words_read_in_another_order_find_their_own_boxes() -> None:
    extracted = "second line here\nfirst line"
    stored = "first line\nsecond line here"
    runs = np.asarray(text_layer_runs(stored, 0, extracted, boxes_of(extracted))).reshape(-1, 6)
    first = runs[runs[:, 0] == 0][0]
    assert first[3] == round(0.12 * SCALE)  # "first" is on the second extracted line
    assert covered_offsets(tuple(runs.flatten())) == {i for i, c in enumerate(stored) if not c.isspace()}


def test_a_word_already_matched_in_reading_order_is_not_given_twice() -> None:
    extracted = "m in\nin x\nz"
    stored = "m in\nz\nin x"  # the second "in" is found out of order, and must not take the first's box
    runs = np.asarray(text_layer_runs(stored, 0, extracted, boxes_of(extracted))).reshape(-1, 6)
    boxes = {start: (left, top) for start, _, left, top, *_ in runs.tolist()}
    assert boxes[2] == (round(0.12 * SCALE), round(0.10 * SCALE))
    assert boxes[7] == (round(0.10 * SCALE), round(0.12 * SCALE))


def test_a_word_the_page_does_not_show_gets_no_box() -> None:
    extracted = "a bridge"
    runs = text_layer_runs("a ghost bridge", 0, extracted, boxes_of(extracted))
    assert covered_offsets(runs) == {0, 8, 9, 10, 11, 12, 13}


def test_runs_survive_encoding_in_a_few_bytes_each() -> None:
    rng = np.random.default_rng(7)
    starts = np.cumsum(rng.integers(2, 9, size=400))
    runs = np.column_stack([starts, starts + 1, rng.integers(0, SCALE, size=(400, 4))]).flatten()
    blob = encode(tuple(int(value) for value in runs))
    assert decode(blob).flatten().tolist() == runs.tolist()
    assert len(blob) < 400 * 6 * 4


def test_a_quote_is_one_box_per_line_and_cut_inside_a_word() -> None:
    runs = np.array(
        [
            [0, 4, 0, 0, 4000, 1000],  # "word" on line one
            [5, 9, 5000, 0, 9000, 1000],  # "next" on line one
            [10, 14, 0, 2000, 4000, 3000],  # "line" on line two
        ]
    )
    boxes = quote_boxes(runs, 2, 12)
    assert len(boxes) == 2
    assert boxes[0][0] == 2000 / SCALE and boxes[0][2] == 9000 / SCALE
    assert boxes[1][2] == 2000 / SCALE
    assert merged_per_line([(0.1, 0.1, 0.2, 0.12), (0.6, 0.1, 0.7, 0.12)]) == [
        (0.1, 0.1, 0.2, 0.12),
        (0.6, 0.1, 0.7, 0.12),
    ]  # a column gap apart: two boxes


def test_a_hyphen_pdfium_marks_at_a_line_end_is_the_stored_hyphen() -> None:
    extracted = "num\ufffebers here"
    stored = "num-\nbers here"
    covered = covered_offsets(text_layer_runs(stored, 0, extracted, boxes_of(extracted)))
    assert covered == {i for i, c in enumerate(stored) if not c.isspace()}
