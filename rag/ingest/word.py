"""Text of a Word .docx: headings and paragraphs in order, list items, table rows with headers, footnotes."""

from __future__ import annotations

import io
from pathlib import PurePath
from typing import Any

import docx
from docx.opc.constants import CONTENT_TYPE
from docx.oxml import parse_xml
from docx.table import Table
from docx.text.paragraph import Paragraph

from rag.errors import DocumentError
from rag.ingest.archive import open_container
from rag.ingest.blocks import TextBuilder, reason, short_label
from rag.tables import clean_cell, render_table
from rag.types import LoadedFile

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_TAGS = (f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr", f"{_W}noBreakHyphen", f"{_W}footnoteReference")
_BULLET_FORMATS = frozenset({"bullet", "none"})


def load_docx(name: str, data: bytes) -> LoadedFile:
    """Headings, paragraphs, lists, table rows with headers and footnotes of a Word .docx."""
    open_container(name, data, "docx").close()
    try:
        document = docx.Document(io.BytesIO(data))
        footnotes = _footnotes(document)
        builder = TextBuilder()
        title = _write_body(
            document, builder, {note_id: number for number, (note_id, _) in enumerate(footnotes, 1)}
        )
        if footnotes:
            builder.add("Footnotes", label="footnotes")
            for number, (_, text) in enumerate(footnotes, 1):
                builder.add(f"[{number}] {text}", separator="\n")
        core_title = (document.core_properties.title or "").strip()
    except Exception as error:  # python-docx and lxml raise many types for malformed parts
        raise DocumentError(
            f"{name} is not a readable Word document ({reason(error)}); re-save it"
        ) from error
    if not builder.text.strip():
        raise DocumentError(f"{name} has no text to index")
    title = core_title or title or PurePath(name).stem
    return LoadedFile(name, title, builder.text, (), "docx", (), tuple(builder.locations))


def _write_body(document: Any, builder: TextBuilder, footnote_numbers: dict[str, int]) -> str | None:
    """Append every block of the body; return the first heading as a fallback title."""
    first_heading = None
    styles = _paragraph_styles(document)
    numbering = _Numbering(document)
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in render_table(_table_rows(block, footnote_numbers)):
                builder.add(row)
            continue
        text = _paragraph_text(block, footnote_numbers).strip()
        if not text:
            continue
        style_name, style_numbering = styles.get(block._p.style or "", styles.get("", ("", None)))
        if style_name.startswith("heading") or style_name == "title":
            first_heading = first_heading or text
            builder.add(text, label=f"section: {short_label(text)}")
        elif (marker := numbering.marker(block, style_numbering)) is not None:
            builder.add(f"{marker} {text}", separator="\n")
        else:
            builder.add(text)
    return first_heading


def _paragraph_text(paragraph: Paragraph, footnote_numbers: dict[str, int]) -> str:
    pieces = []
    for node in paragraph._p.iter(*_TEXT_TAGS):
        if node.tag == f"{_W}t":
            pieces.append(node.text or "")
        elif node.tag == f"{_W}tab":
            pieces.append("\t")
        elif node.tag == f"{_W}noBreakHyphen":
            pieces.append("-")
        elif node.tag == f"{_W}footnoteReference":
            number = footnote_numbers.get(node.get(f"{_W}id", ""))
            pieces.append(f"[{number}]" if number else "")
        else:
            pieces.append("\n")
    return "".join(pieces)


def _table_rows(table: Table, footnote_numbers: dict[str, int]) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is repeated once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(clean_cell(" ".join(_paragraph_text(p, footnote_numbers) for p in cell.paragraphs)))
        rows.append(cells)
    return rows


def _footnotes(document: Any) -> list[tuple[str, str]]:
    """(id, text) of the real footnotes, in document order; separators and continuations are skipped."""
    part = next(
        (
            part
            for part in document.part.package.iter_parts()
            if part.content_type == CONTENT_TYPE.WML_FOOTNOTES
        ),
        None,
    )
    if part is None:
        return []
    root = parse_xml(part.blob)
    notes = []
    for note in root.iter(f"{_W}footnote"):
        if note.get(f"{_W}type") not in (None, "normal"):
            continue
        text = " ".join("".join(node.text or "" for node in p.iter(f"{_W}t")) for p in note.iter(f"{_W}p"))
        notes.append((note.get(f"{_W}id", ""), clean_cell(text)))
    return notes


class _Numbering:
    """List markers: "-" for bullets, a running "n." for numbered lists, indented by level."""

    def __init__(self, document: Any) -> None:
        self.formats: dict[tuple[str, str], str] = {}
        self.counters: dict[tuple[str, int], int] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return
        abstract_formats = {
            (abstract.get(f"{_W}abstractNumId"), level.get(f"{_W}ilvl")): _value(level.find(f"{_W}numFmt"))
            for abstract in root.iter(f"{_W}abstractNum")
            for level in abstract.iter(f"{_W}lvl")
        }
        for num in root.iter(f"{_W}num"):
            abstract_id = _value(num.find(f"{_W}abstractNumId"))
            for (abstract, level), number_format in abstract_formats.items():
                if abstract == abstract_id:
                    self.formats[(num.get(f"{_W}numId", ""), level or "0")] = number_format

    def marker(self, paragraph: Paragraph, style_numbering: Any) -> str | None:
        """The list marker for a paragraph (style_numbering: its style's numPr), or None if not a list item."""
        num_id, level = _list_position(paragraph._p.find(f"{_W}pPr/{_W}numPr"), style_numbering)
        if num_id is None:
            return None
        number_format = self.formats.get((num_id, str(level)), "bullet")
        indent = "  " * level
        for key in [key for key in self.counters if key[0] == num_id and key[1] > level]:
            del self.counters[key]
        if number_format in _BULLET_FORMATS:
            return f"{indent}-"
        count = self.counters[(num_id, level)] = self.counters.get((num_id, level), 0) + 1
        return f"{indent}{count}."


def _list_position(*candidates: Any) -> tuple[str | None, int]:
    """numId and level from the paragraph's own numPr, else its style's ("List Number" carries it there)."""
    for properties in candidates:
        num_id = _value(properties.find(f"{_W}numId")) if properties is not None else ""
        if num_id and num_id != "0":
            return num_id, int(_value(properties.find(f"{_W}ilvl")) or 0)
    return None, 0


def _paragraph_styles(document: Any) -> dict[str, tuple[str, Any]]:
    """Style id -> (lower-case name, numPr); key "" is the default. Built once: python-docx's lookup is O(styles)."""
    styles: dict[str, tuple[str, Any]] = {}
    for style in document.styles.element.iter(f"{_W}style"):
        if style.get(f"{_W}type") != "paragraph":
            continue
        entry = (_value(style.find(f"{_W}name")).lower(), style.find(f"{_W}pPr/{_W}numPr"))
        styles[style.get(f"{_W}styleId", "")] = entry
        if style.get(f"{_W}default") in ("1", "true"):
            styles[""] = entry
    return styles


def _value(element: Any) -> str:
    return element.get(f"{_W}val", "") if element is not None else ""
