"""Text of a PowerPoint .pptx: per slide its title, text boxes, tables and speaker notes; a slide is a page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER

from rag.errors import DocumentError
from rag.ingest.archive import open_container
from rag.ingest.blocks import TextBuilder, reason, short_label
from rag.tables import render_table
from rag.types import LoadedFile

_TITLE_PLACEHOLDERS = frozenset({PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE})


def load_pptx(name: str, data: bytes) -> LoadedFile:
    """Per slide its title, text boxes, tables and speaker notes; slide n is page n."""
    open_container(name, data, "pptx").close()
    builder = TextBuilder()
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
        slide_lengths = []
        for number, slide in enumerate(presentation.slides, 1):
            _write_slide(slide, number, builder)
            slide_lengths.append(builder.length - builder.page_starts[-1] - len(f"Slide {number}"))
        core_title = (presentation.core_properties.title or "").strip()
    except Exception as error:  # python-pptx and lxml raise many types for malformed parts
        raise DocumentError(
            f"{name} is not a readable PowerPoint file ({reason(error)}); re-save it"
        ) from error
    if not builder.page_starts:
        raise DocumentError(f"{name} has no slides; there is nothing to index")
    if not any(slide_lengths):
        raise DocumentError(f"{name} has no text on its slides (pictures only?); there is nothing to index")
    first_title = builder.locations[0].label.partition(": ")[2] if builder.locations else ""
    title = core_title or first_title or PurePath(name).stem
    return LoadedFile(
        name, title, builder.text, tuple(builder.page_starts), "pptx", (), tuple(builder.locations)
    )


def _write_slide(slide: Any, number: int, builder: TextBuilder) -> None:
    title_shape = slide.shapes.title
    title = title_shape.text_frame.text.strip() if title_shape is not None else ""
    label = f"slide {number}: {short_label(title)}" if title else f"slide {number}"
    builder.add(f"Slide {number}", label=label, new_page=True)
    if title:
        builder.add(title, separator="\n")
    for shape in _reading_order(slide.shapes):
        if shape.has_text_frame:
            builder.add(shape.text_frame.text)
        elif getattr(shape, "has_table", False):
            rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
            for row in render_table(rows):
                builder.add(row)
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            builder.add(f"Speaker notes: {notes.text.strip()}")


def _reading_order(shapes: Any) -> Iterator[Any]:
    """Shapes top to bottom, then left to right, with groups opened; XML order is z-order, not reading order."""
    flat = list(_ungrouped(shapes))
    yield from sorted(flat, key=lambda shape: (shape.top or 0, shape.left or 0))


def _ungrouped(shapes: Any) -> Iterator[Any]:
    for shape in shapes:
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _ungrouped(shape.shapes)
        elif not (shape.is_placeholder and shape.placeholder_format.type in _TITLE_PLACEHOLDERS):
            yield shape
