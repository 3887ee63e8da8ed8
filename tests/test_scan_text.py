"""OCR text that reads like the page: lines and paragraphs rebuilt from tesseract's words."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from sample_files import FONT_PATH

import rag
from rag.ingest.ocr import load_image
from rag.ingest.scan_text import parse_tsv
from rag.settings import OcrSettings
from rag.types import PageGeometry

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="needs tesseract-ocr (make install installs it)"
)
PRIMER = "The north bridge was repainted in October with a zinc-rich primer."
REPORT = [
    "Bridge maintenance",
    "Maintenance of the city bridges continued through the autumn. " + PRIMER + " The crew also"
    " replaced the worn expansion joints on the eastern approach before the first frost arrived.",
    "The south bridge was inspected in March and found sound. Its next full inspection is due in"
    " two years, when the deck will be surveyed again.",
]
FONT_SIZE = 40
TEXT_WIDTH = 2000


def wrapped(paragraph: str, font: ImageFont.FreeTypeFont) -> list[str]:
    """The paragraph's words in lines no wider than TEXT_WIDTH pixels."""
    lines: list[str] = []
    for word in paragraph.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= TEXT_WIDTH:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def scan(paragraphs: list[str], line_spacing: float, paragraph_gap: float, indent: int = 0) -> bytes:
    """A 300 dpi page of the paragraphs (the first a heading), lines line_spacing font sizes apart,
    paragraph_gap more between paragraphs, each first body line indented by indent pixels."""
    image = Image.new("L", (2480, 1800), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_PATH, FONT_SIZE)
    heading = ImageFont.truetype(FONT_PATH, FONT_SIZE * 2)
    draw.text((200, 150), paragraphs[0], fill=0, font=heading)
    top = 150 + FONT_SIZE * 3.5
    for paragraph in paragraphs[1:]:
        for number, line in enumerate(wrapped(paragraph, font)):
            draw.text((200 + (indent if number == 0 else 0), top), line, fill=0, font=font)
            top += FONT_SIZE * line_spacing
        top += FONT_SIZE * paragraph_gap
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(300, 300))
    return buffer.getvalue()


def test_the_primer_sentence_is_wrapped_on_the_scan() -> None:
    lines = wrapped(REPORT[1], ImageFont.truetype(FONT_PATH, FONT_SIZE))
    assert not any(PRIMER in line for line in lines)
    assert any(line.endswith("repainted in") for line in lines)


@needs_tesseract
def test_double_spaced_scan_keeps_each_sentence_whole() -> None:
    loaded = load_image("report.png", scan(REPORT, line_spacing=2.4, paragraph_gap=2.4), OcrSettings())
    assert PRIMER in loaded.text
    assert "Bridge maintenance\n\nMaintenance of the city" in loaded.text
    assert "first frost arrived.\n\nThe south bridge" in loaded.text
    assert loaded.text.count("\n") == 4  # the two paragraph breaks, nothing inside a paragraph


@needs_tesseract
def test_single_spaced_paragraphs_marked_by_indents_stay_apart() -> None:
    loaded = load_image(
        "report.png", scan(REPORT, line_spacing=1.2, paragraph_gap=0, indent=120), OcrSettings()
    )
    assert PRIMER in loaded.text
    assert "first frost arrived.\n\nThe south bridge" in loaded.text


@needs_tesseract
def test_word_boxes_follow_the_rebuilt_text() -> None:
    loaded = load_image("report.png", scan(REPORT, line_spacing=2.4, paragraph_gap=2.4), OcrSettings())
    (geometry,) = loaded.geometry
    runs = [geometry.runs[index : index + 6] for index in range(0, len(geometry.runs), 6)]
    words = [loaded.text[start:end] for start, end, *_ in runs]
    assert words == loaded.text.split()
    october = next(run for run in runs if loaded.text[run[0] : run[1]] == "October")
    repainted = next(run for run in runs if loaded.text[run[0] : run[1]] == "repainted")
    assert october[3] > repainted[5]  # "October" starts the line below "repainted"


def tsv(lines: list[tuple[int, int, list[str]]], block_per_line: bool = False) -> str:
    """Tesseract TSV of lines given as (left, top, words), words 20 px a letter, 30 px high."""
    rows = ["level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"]
    rows.append("1\t1\t0\t0\t0\t0\t0\t0\t2000\t3000\t-1\t")
    for number, (left, top, words) in enumerate(lines, start=1):
        block, line = (number, 1) if block_per_line else (1, number)
        for position, word in enumerate(words, start=1):
            rows.append(
                f"5\t1\t{block}\t1\t{line}\t{position}\t{left}\t{top}\t{20 * len(word)}\t30\t95\t{word}"
            )
            left += 20 * len(word) + 12
    return "\n".join(rows) + "\n"


def test_address_lines_keep_their_line_breaks() -> None:
    text, _, _ = parse_tsv(
        tsv(
            [
                (100, 100, ["Send", "the", "forms", "to", "the", "office", "in", "the", "old"]),
                (100, 140, ["town", "hall."]),
                (100, 180, ["Harbour", "Office"]),
                (100, 220, ["12", "Quay", "Street"]),
                (100, 260, ["Bergen"]),
            ]
        )
    )
    assert (
        text == "Send the forms to the office in the old town hall.\n\nHarbour Office\n12 Quay Street\nBergen"
    )


def test_lower_case_continuation_joins_across_a_wide_gap() -> None:
    text, _, _ = parse_tsv(
        tsv(
            [
                (100, 100, ["The", "pump", "was", "serviced", "by"]),
                (100, 140, ["the", "harbour", "crew", "in", "May."]),
                (100, 600, ["the", "valves", "were", "replaced", "too."]),
            ],
            block_per_line=True,
        )
    )
    assert text == "The pump was serviced by the harbour crew in May.\n\nthe valves were replaced too."


def test_hyphenated_word_is_joined_and_boxes_point_at_it() -> None:
    text, _, runs = parse_tsv(
        tsv(
            [
                (100, 100, ["A", "primer", "rich", "in", "zinc-"]),
                (100, 140, ["rich", "paint", "was", "used."]),
            ]
        )
    )
    assert text == "A primer rich in zinc-rich paint was used."
    starts = PageGeometry(1, "ocr", runs).runs[0::6]
    assert [text[start] for start in starts] == ["A", "p", "r", "i", "z", "r", "p", "w", "u"]


def test_text_moving_to_a_second_column_is_a_new_paragraph() -> None:
    text, _, _ = parse_tsv(
        tsv([(100, 100, ["Left", "column", "ends", "here."]), (1100, 100, ["Right", "column."])])
    )
    assert text == "Left column ends here.\n\nRight column."


@needs_tesseract
@pytest.mark.model
def test_double_spaced_scan_question_is_answered(tmp_path: Path, real_embedder: rag.Embedder) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "bridges.png").write_bytes(scan(REPORT, line_spacing=2.4, paragraph_gap=2.4))
    with rag.open(tmp_path / "index", embedder=real_embedder) as base:
        assert base.ingest([folder]).count("failed") == 0
        answer = base.ask("What primer was used on the north bridge?")
        assert answer.answered, answer.text
        assert any(PRIMER in citation.quote.text for citation in answer.citations), answer.text
        for citation in answer.citations:
            assert (
                base.document(citation.quote.document_id).text[citation.start : citation.end]
                == citation.quote.text
            )


@needs_tesseract
def test_a_sentence_wrapped_on_the_scan_is_highlighted_on_both_its_lines(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    path = tmp_path / "bridges.png"
    path.write_bytes(scan(REPORT, line_spacing=2.4, paragraph_gap=2.4))
    assert fake_base.ingest([path]).count("failed") == 0
    document = fake_base.document(str(path))
    start = document.text.index(PRIMER)
    first, second = fake_base.highlight_boxes(document.id, 1, (start, start + len(PRIMER)))
    assert second[1] > first[3]  # "October with a zinc-rich primer." on the line below
    assert first[2] > 0.8 and second[0] < 0.1  # from "The north bridge" at the line's end, to its start
