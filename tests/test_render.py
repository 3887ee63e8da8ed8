"""Page images: a quote's boxes lie over its glyphs and nowhere else, on every kind of page."""

from __future__ import annotations

import io
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image
from sample_files import png_bytes, positioned_pdf

import rag
from rag.errors import DocumentError, NotFoundError
from rag.pages.cache import PageCache
from rag.pages.render import MAX_PIXELS, fitted
from rag.storage.store import DATABASE_NAME

TWO_COLUMNS = [
    (72, 700, "F1", "The north bridge was repainted in"),
    (72, 686, "F1", "October with a zinc-rich primer."),
    (72, 672, "F2", "Inspectors found no rust on the"),
    (72, 658, "F2", "lower girders after the winter."),
    (320, 700, "F3", "The ferry timetable changes"),
    (320, 686, "F3", "in May, when the summer"),
    (320, 672, "F1", "service adds two crossings."),
]


ENGINES = ["folder", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def any_base(
    request: pytest.FixtureRequest, tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> Iterator[rag.KnowledgeBase]:
    """An empty knowledge base in a temp folder, or in a PostgreSQL schema: the page viewer on both."""
    location = tmp_path / "index" if request.param == "folder" else request.getfixturevalue("postgres_url")
    with rag.open(location, embedder=fake_embedder) as base:
        yield base


def ingested(base: rag.KnowledgeBase, folder: Path, name: str, data: bytes) -> rag.Document:
    path = folder / name
    path.write_bytes(data)
    report = base.ingest([path])
    assert report.count("failed") == 0, report.to_dict()
    return base.document(str(path))


def highlight_mask(
    base: rag.KnowledgeBase, document: rag.Document, start: int, end: int, width: int
) -> np.ndarray:
    """Pixels the highlight changed: the page drawn with it against the page drawn without."""
    page = document.page_at(start) or 1
    plain = np.asarray(Image.open(io.BytesIO(base.page_image(document.id, page, width=width))).convert("RGB"))
    marked = base.page_image(document.id, page, highlight=(start, end), width=width)
    painted = np.asarray(Image.open(io.BytesIO(marked)).convert("RGB"))
    return np.any(plain != painted, axis=2)


def glyph_coverage(data: bytes, page: int, quoted: list[str], mask: np.ndarray) -> tuple[float, float]:
    """(share of the quoted glyphs' area highlighted, share of the other glyphs' area highlighted),
    glyph boxes as pdfium reads them from the file, the quoted ones found by their line text."""
    document = pypdfium2.PdfDocument(data)
    pdf_page = document[page - 1]
    text_page = pdf_page.get_textpage()
    text = text_page.get_text_range()
    quoted_indices = set()
    for line in quoted:
        at = text.find(line)
        assert at >= 0, line
        quoted_indices.update(range(at, at + len(line)))
    height, width = mask.shape
    page_width, page_height = pdf_page.get_size()
    rotation = pdf_page.get_rotation()
    inside = [0, 0]
    outside = [0, 0]
    for index, character in enumerate(text):
        if character.isspace():
            continue
        left, bottom, right, top = text_page.get_charbox(index)
        if rotation == 90:  # displayed turned clockwise: up the page becomes to the right
            box = (bottom, left, top, right)
        else:
            box = (left, page_height - top, right, page_height - bottom)
        x0, y0 = int(box[0] / page_width * width), int(box[1] / page_height * height)
        x1, y1 = int(np.ceil(box[2] / page_width * width)), int(np.ceil(box[3] / page_height * height))
        area = mask[y0:y1, x0:x1]
        tally = inside if index in quoted_indices else outside
        tally[0] += int(area.sum())
        tally[1] += area.size
    document.close()
    return inside[0] / inside[1], outside[0] / max(outside[1], 1)


@pytest.mark.parametrize("rotate", [0, 90])
def test_a_quotes_highlight_covers_its_glyphs_and_almost_no_others(
    fake_base: rag.KnowledgeBase, tmp_path: Path, rotate: int
) -> None:
    data = positioned_pdf([TWO_COLUMNS], rotate=rotate)
    document = ingested(fake_base, tmp_path, "bridges.pdf", data)
    for quoted in (
        ["October with a zinc-rich primer.", "Inspectors found no rust on the"],
        ["in May, when the summer"],
    ):
        start = document.text.index(quoted[0])
        end = document.text.index(quoted[-1]) + len(quoted[-1])
        mask = highlight_mask(fake_base, document, start, end, 1000)
        covered, spilled = glyph_coverage(data, 1, quoted, mask)
        assert covered >= 0.98, quoted
        assert spilled <= 0.05, quoted


def test_a_quote_inside_the_second_column_lights_up_only_there(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    data = positioned_pdf([TWO_COLUMNS])
    document = ingested(fake_base, tmp_path, "ferry.pdf", data)
    quote = "in May, when the summer"
    start = document.text.index(quote)
    mask = highlight_mask(fake_base, document, start, start + len(quote), 612)
    rows, columns = np.nonzero(mask)
    assert columns.min() >= 318 and rows.min() >= 792 - 700 and rows.max() <= 792 - 672
    covered, spilled = glyph_coverage(data, 1, [quote], mask)
    assert covered >= 0.98 and spilled == 0


def test_extraction_inserted_characters_have_no_box(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    document = ingested(fake_base, tmp_path, "bridges.pdf", positioned_pdf([TWO_COLUMNS]))
    line_break = document.text.index("in\nOctober") + 2
    assert document.text[line_break] == "\n"
    assert not highlight_mask(fake_base, document, line_break, line_break + 1, 612).any()
    space = document.text.index("north bridge") + 5
    assert not highlight_mask(fake_base, document, space, space + 1, 612).any()


def test_a_quote_across_a_page_break_is_highlighted_on_both_pages(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    pages = [
        [(72, 700, "F1", "The first page ends here.")],
        [(72, 700, "F1", "The second page starts here.")],
    ]
    document = ingested(fake_base, tmp_path, "two.pdf", positioned_pdf(pages))
    start, end = document.text.index("ends"), document.text.index(" starts")
    for page in (1, 2):
        plain = fake_base.page_image(document.id, page, width=300)
        assert fake_base.page_image(document.id, page, highlight=(start, end), width=300) != plain


def test_highlight_boxes_and_the_thumbnail_show_where_the_quote_is(
    any_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    lines = [(72, 700, "F1", "Inspectors found no rust."), (72, 400, "F2", "The ferry leaves at noon daily.")]
    document = ingested(any_base, tmp_path, "ferry.pdf", positioned_pdf([lines]))
    start = document.text.index("The ferry")
    end = start + len("The ferry leaves at noon daily.")
    ((left, top, right, bottom),) = any_base.highlight_boxes(document.id, 1, (start, end))
    assert 0.1 < left < 0.13 and 0.47 < top < bottom < 0.51 and right < 0.5  # 72 pt in, 392-400 pt down
    thumbnail = Image.open(io.BytesIO(any_base.quote_thumbnail(document.id, (start, end), width=200)))
    assert thumbnail.width == 200 and thumbnail.height < 150
    yellow = np.asarray(thumbnail.convert("RGB")).astype(int)
    rows = ((yellow[..., 0] - yellow[..., 2]) > 60).mean(axis=1)
    assert rows.max() > 0.5 and rows[0] == rows[-1] == 0  # the highlighted line, white around it
    assert any_base.highlight_boxes(document.id, 1, (0, 5)) != any_base.highlight_boxes(
        document.id, 1, (start, end)
    )


def test_a_huge_page_is_drawn_within_the_pixel_budget(fake_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    data = positioned_pdf([[(500, 9000, "F1", "A poster of ten thousand points.")]], size=(10_000, 10_000))
    document = ingested(fake_base, tmp_path, "poster.pdf", data)
    start = document.text.index("ten thousand")
    image = Image.open(
        io.BytesIO(fake_base.page_image(document.id, 1, highlight=(start, start + 12), width=5000))
    )
    assert image.width * image.height <= MAX_PIXELS
    assert fitted(14_400, 200, 1000)[1:] == (1000, 14)
    _, tall_width, tall_height = fitted(200, 14_400, 3000)
    assert tall_width * tall_height <= MAX_PIXELS * 1.01


def test_an_index_from_before_page_boxes_is_upgraded_says_so_and_optimize_fills_them_in(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        document = ingested(base, tmp_path, "bridges.pdf", positioned_pdf([TWO_COLUMNS]))
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.execute("DROP TABLE page_boxes")
        connection.execute("UPDATE manifest SET value = '3' WHERE key = 'format_version'")
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.store.manifest()["format_version"] == "6"
        assert base.page_image(document.id, 1, width=200).startswith(b"\x89PNG")
        with pytest.raises(DocumentError, match=r"ingested before page positions were stored.*rag optimize"):
            base.page_image(document.id, 1, highlight=(0, 10))
        filled = base.optimize()
        assert (
            filled["documents_given_page_positions"] == 1 and filled["documents_without_page_positions"] == 0
        )
        assert base.page_image(document.id, 1, highlight=(0, 10), width=200) != base.page_image(
            document.id, 1, width=200
        )


def test_a_page_comes_only_from_the_unchanged_original(any_base: rag.KnowledgeBase, tmp_path: Path) -> None:
    document = ingested(any_base, tmp_path, "bridges.pdf", positioned_pdf([TWO_COLUMNS]))
    (tmp_path / "bridges.pdf").write_bytes(positioned_pdf([TWO_COLUMNS[:2]]))
    with pytest.raises(NotFoundError, match="changed since it was ingested"):
        any_base.page_image(document.id, 1, width=321)
    (tmp_path / "bridges.pdf").unlink()
    with pytest.raises(NotFoundError, match="cannot be read"):
        any_base.page_image(document.id, 1, width=322)
    with pytest.raises(NotFoundError, match="not a page 2"):
        any_base.page_image(document.id, 2)


def test_text_documents_have_no_page_images(any_base: rag.KnowledgeBase) -> None:
    any_base.add_texts([rag.TextItem("notes.md", "Plain notes without pages.")])
    with pytest.raises(DocumentError, match="only PDFs and pictures have page images"):
        any_base.page_image("notes.md", 1)


def test_the_page_cache_keeps_recent_pages_within_its_bytes() -> None:
    cache = PageCache(max_bytes=10)
    drawn = []
    for key in ("a", "b", "a", "c"):
        cache.get(key, lambda key=key: drawn.append(key) or key.encode() * 4)
    assert drawn == ["a", "b", "c"]
    assert len(cache) == 2  # "b" went first: "a" was used again


@pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="needs tesseract-ocr (make install installs it)"
)
def test_an_ocr_quote_is_highlighted_over_its_words_on_the_picture(
    fake_base: rag.KnowledgeBase, tmp_path: Path
) -> None:
    lines = ["The north bridge was repainted", "with a zinc rich primer"]
    document = ingested(fake_base, tmp_path, "scan.png", png_bytes(lines))
    start = document.text.index("zinc")
    picture = Image.open(io.BytesIO(png_bytes(lines)))
    mask = highlight_mask(fake_base, document, start, start + 4, picture.width)
    rows, columns = np.nonzero(mask)
    # The second line is drawn at y = 240 in a 48 px font; "zinc" after "with a ".
    assert rows.min() >= 225 and rows.max() <= 310
    assert columns.min() >= 150 and columns.max() <= 150 + 48 * 12
