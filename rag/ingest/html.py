"""Visible text and title of an HTML page, with block structure kept as line breaks.

A data table (its first row all <th> header cells, no table inside it, no line breaks inside
its cells) is written as spreadsheets and Word tables are, "a | b" and then "a: 1; b: 2" per row
(rag/tables.py), so that each row reads on its own and answers can compute from its numbers;
any other table keeps its cells space-separated, one row a line.

The page is read as a stream of tags (the standard library's tokenizer) and never built
into a tree: time and memory stay linear in the size of the page, where a parse tree took
about 2 s and 35 MB per MB of HTML (docs/reliability.md).
"""

from __future__ import annotations

import codecs
import io
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

from rag.errors import DocumentError
from rag.ingest.decoding import decode
from rag.tables import render_table
from rag.types import LoadedFile

_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "title", "svg", "iframe", "object"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_PREFORMATTED_TAGS = frozenset({"pre", "textarea", "listing", "plaintext"})
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr basefont bgsound frame keygen".split()
)

# Newlines a block owes before and after itself; neighbouring blocks share them, so
# two list items are one line apart and two paragraphs one blank line apart.
_NEWLINES_AROUND: dict[str, int] = {
    **dict.fromkeys("div li tr dt dd caption figcaption summary legend option center".split(), 1),
    **dict.fromkeys(
        "p h1 h2 h3 h4 h5 h6 pre blockquote table ul ol dl hr figure section article"
        " header footer nav aside main address details form fieldset".split(),
        2,
    ),
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_CELL_TAGS = frozenset({"td", "th"})
# Inside a table these keep it a grid of one-line cells; any other block (a paragraph or list
# in a cell) makes it a layout table, kept as text.
_TABLE_PARTS = frozenset({"tr", "td", "th", "thead", "tbody", "tfoot", "caption", "colgroup"})
_INLINE_WHITESPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")
_FEED_CHARS = 1 << 16


@dataclass
class _Table:
    """The cells of the outermost table being read, and where its first cell's text was written."""

    depth: int  # of the <table> element among the open elements
    rows: list[list[str]]
    header_cells: list[bool]  # whether each cell of the first row is a <th>
    start: int | None = None
    is_grid: bool = True

    def rendered(self) -> list[str] | None:
        """Its rows as header and "column: value" lines, or None when it is no data table."""
        rows = [row for row in self.rows if any(cell.strip() for cell in row)]
        is_data = self.is_grid and len(rows) >= 2 and len(rows[0]) >= 2 and all(self.header_cells)
        return render_table(rows) if is_data and self.start is not None else None


@dataclass(frozen=True)
class HtmlText:
    """The visible text of a page and its <title>, if it has a non-blank one."""

    title: str | None
    text: str


def load_html(name: str, data: bytes) -> LoadedFile:
    """An HTML file's visible text, decoded by its byte-order mark, declared charset or detection."""
    decoded, warnings = decode(data, declared_charset(data))
    page = extract_html_text(decoded)
    if not page.text.strip():
        raise DocumentError(f"{name} has no text to index (only whitespace or markup)")
    return LoadedFile(name, page.title or PurePath(name).stem, page.text, (), "html", warnings)


def extract_html_text(html: str) -> HtmlText:
    """Return the text a browser would show for `html`, one block per line."""
    reader = _VisibleText()
    for start in range(0, len(html), _FEED_CHARS):
        reader.feed(html[start : start + _FEED_CHARS])
    reader.close()
    title = _collapse(reader.title_text.getvalue())
    return HtmlText(title=title or None, text=_layout(reader.output.getvalue()))


def declared_charset(data: bytes) -> str | None:
    """Return the codec a <meta> tag in the page's first 4 KB declares, if Python knows it."""
    match = _META_CHARSET.search(data[:4096])
    if match is None:
        return None
    try:
        codec = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None
    # As browsers do (WHATWG Encoding Standard): latin-1 and ASCII labels mean cp1252,
    # and a UTF-16 label cannot be right if the meta tag was readable as ASCII.
    if codec in ("iso8859-1", "ascii"):
        return "cp1252"
    return "utf-8" if codec.startswith(("utf-16", "utf-32")) else codec


class _VisibleText(HTMLParser):
    """Writes visible text to `output` as it streams past, newlines owed between blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.output = io.StringIO()
        self.title_text = io.StringIO()
        self._open: list[str] = []  # elements not yet closed, innermost last
        self._open_count: Counter[str] = Counter()  # so an end tag finds its element in O(1)
        self._hidden_depth: int | None = None  # depth of the outermost hidden element
        self._preformatted = 0
        self._in_title = False
        self._seen_title = False
        self._owed = 0
        self._table: _Table | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            if self._hidden_depth is None and tag == "br":
                if self._table is not None:
                    self._table.is_grid = False
                self._write("\n")
            elif self._hidden_depth is None and tag == "hr":
                self._owe(2)
            return
        self._open.append(tag)
        self._open_count[tag] += 1
        if self._hidden_depth is not None:
            return
        if tag in _INVISIBLE_TAGS or _is_hidden(dict(attrs)):
            self._hidden_depth = len(self._open)
            self._in_title = tag == "title" and not self._seen_title
            return
        self._preformatted += tag in _PREFORMATTED_TAGS
        self._read_table(tag)
        self._separate(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self._open_count[tag]:
            return  # a stray end tag closes nothing, as in a browser
        while self._open:
            closed = self._open.pop()
            self._open_count[closed] -= 1
            if self._hidden_depth is not None:
                if len(self._open) < self._hidden_depth:
                    self._hidden_depth, self._in_title = None, False
                    self._seen_title = self._seen_title or closed == "title"
            else:
                self._preformatted -= closed in _PREFORMATTED_TAGS
                if closed == "table" and self._table is not None and len(self._open) < self._table.depth:
                    self._end_table(self._table)
                self._separate(closed)
            if closed == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_text.write(data)
        if self._hidden_depth is not None:
            return
        # Outside <pre> a newline in the source is just a space on screen.
        text = data if self._preformatted else _INLINE_WHITESPACE.sub(" ", data)
        table = self._table
        if table is not None and table.rows and text.strip():
            table.rows[-1][-1:] = [(table.rows[-1][-1:] or [""])[0] + text]
            if table.start is None:
                self._settle()  # the table starts after the newlines owed before it
                table.start = self.output.tell()
        self._write(text)

    def _read_table(self, tag: str) -> None:
        """Note a table's rows and cells as they open."""
        table = self._table
        if table is None:
            if tag == "table":
                self._table = _Table(len(self._open), [], [])
            return
        if tag == "tr":
            table.rows.append([])
        elif tag in _CELL_TAGS:
            if not table.rows:
                table.rows.append([])
            table.rows[-1].append("")
            if len(table.rows) == 1:
                table.header_cells.append(tag == "th")
        elif tag not in _TABLE_PARTS and (tag in _NEWLINES_AROUND or tag == "table"):
            table.is_grid = False

    def _end_table(self, table: _Table) -> None:
        """Write a data table again as header and rows; leave any other table as it was written."""
        self._table = None
        rendered = table.rendered()
        if rendered is None or table.start is None:
            return
        self.output.seek(table.start)
        self.output.truncate()
        self.output.write("\n".join(rendered))

    def _separate(self, tag: str) -> None:
        if tag in _CELL_TAGS:
            self._write(" ")
        elif tag in _NEWLINES_AROUND:
            self._owe(_NEWLINES_AROUND[tag])

    def _owe(self, newlines: int) -> None:
        self._owed = max(self._owed, newlines)

    def _write(self, text: str) -> None:
        # Spaces between blocks must not settle the debt, or they would split it.
        if text.strip(" "):
            self._settle()
        self.output.write(text)

    def _settle(self) -> None:
        """Write the newlines owed."""
        self.output.write("\n" * self._owed)
        self._owed = 0


def _is_hidden(attributes: dict[str, str | None]) -> bool:
    if "hidden" in attributes:
        return True
    if str(attributes.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return bool(_HIDDEN_STYLE.search(str(attributes.get("style") or "")))


def _layout(text: str) -> str:
    lines = (_collapse(line) for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _collapse(text: str) -> str:
    return _INLINE_WHITESPACE.sub(" ", text).strip()
