"""A stored document's pages as the facade shows them: which page may be drawn, where a quote is on
it, the drawn page (cached, drawn in the page drawer's child) and a quote's thumbnail.

The store's rows come in as values (`KnowledgeBase` reads them); pdfium and Pillow load only when a
page is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from rag.errors import DocumentError, NotFoundError
from rag.pages.cache import PAGE_CACHE
from rag.pages.geometry import Box

if TYPE_CHECKING:
    from rag.pages.render import PageRequest


class PagedFile(Protocol):
    """What showing a stored document's pages needs of its file (storage's `PagedFile`)."""

    @property
    def id(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def content_hash(self) -> str: ...

    @property
    def file_type(self) -> str: ...

    @property
    def pages(self) -> int: ...

    @property
    def has_geometry(self) -> bool: ...


Paged = TypeVar("Paged", bound=PagedFile)


def checked_page(paged: Paged, page: int) -> Paged:
    """The stored file behind a document with pages, checked to have that page."""
    from rag.pages import render

    if paged.file_type not in render.PAGED_TYPES:
        raise DocumentError(render.no_page_images(paged.source, paged.file_type))
    if not 1 <= page <= max(paged.pages, 1):
        raise NotFoundError(f"{paged.source} has {paged.pages} pages, not a page {page}")
    return paged


def check_highlight(paged: PagedFile, highlight: tuple[int, int]) -> None:
    """Refuse a highlight that is not a span of the text, or on pages stored without positions."""
    start, end = highlight
    if not 0 <= start < end:
        raise DocumentError(f"highlight {start}:{end} is not a span of the text: give START:END, START < END")
    if not paged.has_geometry:
        raise DocumentError(
            f"{paged.source} was ingested before page positions were stored, so quotes cannot be"
            " highlighted on its pages: run `rag optimize` (it reads them from the unchanged"
            " original files), or ask for the page without a highlight"
        )


def highlight_boxes(runs: bytes | None, highlight: tuple[int, int]) -> list[Box]:
    """The boxes of the characters [start, end) among a page's stored word boxes (`runs`), one per
    line; [] when the page has none."""
    from rag.pages.geometry import decode, quote_boxes

    start, end = highlight
    return quote_boxes(decode(runs), start, end) if runs is not None else []


def page_image(paged: PagedFile, page: int, boxes: Sequence[Box], width: int | None) -> bytes:
    """PNG of one page drawn from the original file, `width` pixels wide, the boxes highlighted;
    kept in the process's page cache, keyed by what was drawn from which unchanged file."""
    # Imported here: pdfium and Pillow load only when a page is shown.
    from rag.pages import render

    request = render.PageRequest(
        paged.source, paged.file_type, page, render.clamped_width(width), render.boxes_key(boxes)
    )
    key = (paged.id, paged.content_hash, _file_stamp(paged.source), request)
    return PAGE_CACHE.get(
        key, lambda: _drawn(render.read_original(paged.source, paged.content_hash), request)
    )


def check_quote_boxes(boxes: Sequence[Box], source: str, highlight: tuple[int, int]) -> None:
    """A quote's thumbnail needs where it is on its page."""
    if not boxes:
        raise NotFoundError(f"{source} has no page position for characters {highlight[0]}-{highlight[1]}")


def thumbnail(page_png: bytes, boxes: Sequence[Box], width: int) -> bytes:
    """The region of a drawn page around a quote's boxes, `width` pixels wide (clamped)."""
    from rag.pages import render

    return render.region_of(page_png, boxes, render.clamped_width(width))


def _drawn(data: bytes, request: PageRequest) -> bytes:
    """The page drawn in the page drawer's child process, within its time and memory limits."""
    from rag.pages.worker import PAGE_DRAWER

    return PAGE_DRAWER.draw(data, request)


def _file_stamp(source: str) -> tuple[int, int]:
    """(size, modification time) of a file, so a cached page of a changed file is drawn afresh."""
    try:
        stat = os.stat(source)
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)
