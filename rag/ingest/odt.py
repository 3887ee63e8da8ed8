"""Text of an OpenDocument .odt: headings, paragraphs, list items, table rows with headers, footnotes."""

from __future__ import annotations

import zipfile
from pathlib import PurePath
from xml.etree import ElementTree

from rag.errors import DocumentError
from rag.ingest.archive import open_container, read_member
from rag.ingest.blocks import TextBuilder, short_label
from rag.tables import clean_cell, render_table
from rag.types import LoadedFile

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
MAX_REPEATED_CELLS = 64  # a trailing empty cell "repeated 1000 times" must not become 1000 cells


def load_odt(name: str, data: bytes) -> LoadedFile:
    """Headings, paragraphs, lists, table rows with headers and footnotes of an OpenDocument text."""
    with open_container(name, data, "odt") as archive:
        return _read_text(name, archive)


def _read_text(name: str, archive: zipfile.ZipFile) -> LoadedFile:
    if read_member(name, archive, "mimetype").strip() != ODT_MIMETYPE:
        raise DocumentError(f"{name} is an OpenDocument file but not a text document (.odt); check it")
    try:
        root = ElementTree.fromstring(read_member(name, archive, "content.xml"))
    except ElementTree.ParseError as error:
        raise DocumentError(f"{name} has a malformed content.xml ({error}); re-save it") from error
    body = root.find(f"{_OFFICE}body/{_OFFICE}text")
    if body is None:
        raise DocumentError(f"{name} has no text body in content.xml; re-save it")
    writer = _Writer()
    try:
        writer.blocks(body, list_depth=0)
    except ValueError as error:  # a non-numeric repeat or space count
        raise DocumentError(f"{name} has a malformed content.xml ({error}); re-save it") from error
    if writer.notes:
        writer.builder.add("Footnotes", label="footnotes")
        for number, note in enumerate(writer.notes, 1):
            writer.builder.add(f"[{number}] {note}", separator="\n")
    if not writer.builder.text.strip():
        raise DocumentError(f"{name} has no text to index")
    title = writer.first_heading or PurePath(name).stem
    return LoadedFile(name, title, writer.builder.text, (), "odt", (), tuple(writer.builder.locations))


class _Writer:
    """Walks the body once, appending blocks and collecting footnotes."""

    def __init__(self) -> None:
        self.builder = TextBuilder()
        self.notes: list[str] = []
        self.first_heading: str | None = None

    def blocks(self, parent: ElementTree.Element, list_depth: int) -> None:
        """Append every block element under parent, in order."""
        for element in parent:
            if element.tag == f"{_TEXT}h":
                text = self.inline(element).strip()
                self.first_heading = self.first_heading or text
                self.builder.add(text, label=f"section: {short_label(text)}")
            elif element.tag == f"{_TEXT}p":
                marker = "  " * (list_depth - 1) + "- " if list_depth else ""
                self.builder.add(
                    marker + self.inline(element).strip(), separator="\n" if list_depth else "\n\n"
                )
            elif element.tag == f"{_TEXT}list":
                for item in element:
                    self.blocks(item, list_depth + 1)
            elif element.tag == f"{_TABLE}table":
                for row in render_table(self.table_rows(element)):
                    self.builder.add(row)
            elif element.tag == f"{_TEXT}section":
                self.blocks(element, list_depth)

    def inline(self, element: ElementTree.Element) -> str:
        """The text of a paragraph, with footnotes replaced by [n] and collected."""
        pieces = [element.text or ""]
        for child in element:
            if child.tag == f"{_TEXT}s":
                pieces.append(" " * min(int(child.get(f"{_TEXT}c", "1")), 100))
            elif child.tag == f"{_TEXT}tab":
                pieces.append("\t")
            elif child.tag == f"{_TEXT}line-break":
                pieces.append("\n")
            elif child.tag == f"{_TEXT}note":
                body = child.find(f"{_TEXT}note-body")
                text = " ".join(self.inline(p) for p in body.iter(f"{_TEXT}p")) if body is not None else ""
                self.notes.append(clean_cell(text))
                pieces.append(f"[{len(self.notes)}]")
            else:
                pieces.append(self.inline(child))
            pieces.append(child.tail or "")
        return "".join(pieces)

    def table_rows(self, table: ElementTree.Element) -> list[list[str]]:
        """Cell texts row by row, header rows first; repeated cells expanded up to a cap."""
        rows = []
        for row in table.iter(f"{_TABLE}table-row"):
            cells: list[str] = []
            for cell in row:
                if cell.tag not in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"):
                    continue
                text = clean_cell(" ".join(self.inline(p) for p in cell.iter(f"{_TEXT}p")))
                repeat = min(int(cell.get(f"{_TABLE}number-columns-repeated", "1")), MAX_REPEATED_CELLS)
                if cell.tag == f"{_TABLE}table-cell":
                    cells.extend([text] * repeat)
            rows.append(cells)
        return rows
