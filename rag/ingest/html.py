"""Visible text and title of an HTML page, with block structure kept as line breaks."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import PurePath

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

from rag.errors import DocumentError
from rag.ingest.decoding import decode
from rag.types import LoadedFile

# <head> itself is not dropped: html.parser nests the body inside an unclosed <head>,
# and everything a head may legally hold is dropped here or has no text anyway.
_INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "title", "svg", "iframe", "object"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_PREFORMATTED_TAGS = ["pre", "textarea", "listing", "plaintext"]

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
_INLINE_WHITESPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


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
    soup = BeautifulSoup(html, "html.parser")
    title_tag = soup.find("title")
    title = _collapse(title_tag.get_text()) if title_tag is not None else ""
    return HtmlText(title=title or None, text=_layout(_visible_pieces(soup)))


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


def _visible_pieces(root: Tag) -> list[str | int]:
    """Return visible strings in order, with ints for newlines owed between blocks."""
    # An explicit stack instead of recursion: real-world pages nest deep enough to hit
    # Python's recursion limit. Non-element items are closing separators queued for later.
    pieces: list[str | int] = []
    stack: list[PageElement | str | int] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, PreformattedString):
            continue  # comments, doctype, CDATA, processing instructions
        if isinstance(node, NavigableString):
            pieces.append(_string_text(node))
        elif isinstance(node, Tag):
            if node.name in _INVISIBLE_TAGS or _is_hidden(node):
                continue
            if node.name == "br":
                pieces.append("\n")
                continue
            separator: str | int = " " if node.name in _CELL_TAGS else 0
            separator = separator or _NEWLINES_AROUND.get(node.name, 0)
            if separator:
                pieces.append(separator)
                stack.append(separator)
            stack.extend(reversed(node.contents))
        elif not isinstance(node, PageElement):
            pieces.append(node)
    return pieces


def _string_text(node: NavigableString) -> str:
    if node.find_parent(_PREFORMATTED_TAGS) is not None:
        return str(node)
    # Outside <pre> a newline in the source is just a space on screen.
    return _INLINE_WHITESPACE.sub(" ", node)


def _is_hidden(tag: Tag) -> bool:
    if tag.has_attr("hidden"):
        return True
    if str(tag.get("aria-hidden", "")).strip().lower() == "true":
        return True
    return bool(_HIDDEN_STYLE.search(str(tag.get("style", ""))))


def _layout(pieces: list[str | int]) -> str:
    parts: list[str] = []
    owed = 0
    for piece in pieces:
        if isinstance(piece, int):
            owed = max(owed, piece)
        else:
            # Spaces between blocks must not settle the debt, or they would split it.
            if owed and piece.strip(" "):
                parts.append("\n" * owed)
                owed = 0
            parts.append(piece)
    lines = (_collapse(line) for line in "".join(parts).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _collapse(text: str) -> str:
    return _INLINE_WHITESPACE.sub(" ", text).strip()
