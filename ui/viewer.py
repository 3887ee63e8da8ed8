"""The document viewer: a cited PDF page or scan with the quote highlighted (previous and next
page, zoom), a switch to the extracted text with the quote marked, and quote thumbnails."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import rag
from ui.render import escape, highlight, place_html

VIEWER_MAX_CHARS = 200_000
# The API's and `rag show`'s default width: the viewer shows the very image they give, and it
# stays sharp when zoomed to twice the viewer column.
VIEWER_PAGE_WIDTH = 1000
# A quote crossing page breaks shows each page it is on, up to this many.
VIEWER_MAX_PAGES = 3
THUMBNAIL_WIDTH = 320
# Laid out by an office suite: no page image without one (LibreOffice is not a dependency).
OFFICE_TYPES = ("docx", "pptx", "xlsx", "odt", "epub")
PAGED_TYPES = ("pdf", "image")


@dataclass(frozen=True)
class PageImage:
    """A page as PNG with the quote highlighted, or why it cannot be shown; mark_top is where
    the quote's first line is, as a fraction of the page's height (None: not on this page)."""

    page: int
    png: bytes = b""
    problem: str = ""
    mark_top: float | None = None


@dataclass(frozen=True)
class PageView:
    """The pages shown for a citation, how many the document has, and the citation ('T-N')."""

    images: tuple[PageImage, ...] = ()
    page_count: int = 0
    target: str = ""
    note: str = ""  # why a document has no page images at all

    @property
    def has_pages(self) -> bool:
        """Whether at least one page could be drawn."""
        return any(image.png for image in self.images)


def page_view_of(
    base: rag.Corpus, document: rag.Document, citation: rag.Citation, target: str, page: int | None = None
) -> PageView:
    """The pages a PDF or picture citation's quote is on, highlighted (or `page`, when one of the
    document's other pages is asked for); a note for Office files; nothing for text."""
    file_type = document.metadata.get("type")
    if file_type in OFFICE_TYPES:
        return PageView(
            note=f"No page image: a .{file_type} file is shown as its text, with the quote marked."
        )
    first, last = document.page_at(citation.start), document.page_at(max(citation.start, citation.end - 1))
    # An index (KnowledgeBase) and served collections (a Selection) both draw pages; the Corpus
    # protocol itself is only what a question needs.
    draw = getattr(base, "page_image", None)
    if file_type not in PAGED_TYPES or first is None or last is None or draw is None:
        return PageView()
    count = len(document.page_starts)
    quoted = range(first, min(last, first + VIEWER_MAX_PAGES - 1) + 1)
    shown = (
        quoted
        if page is None or page in quoted
        else range(max(1, min(page, count)), max(1, min(page, count)) + 1)
    )
    images = []
    for number in shown:
        highlight_span = (citation.start, citation.end) if number in quoted else None
        try:
            # The source names one file; the id is shared by every file with the same text.
            png = draw(document.source, number, highlight_span, VIEWER_PAGE_WIDTH)
            boxes = base.highlight_boxes(document.source, number, highlight_span) if highlight_span else []
        except rag.RagError as error:
            images.append(PageImage(number, problem=str(error)))
            break
        images.append(PageImage(number, png, mark_top=min((box[1] for box in boxes), default=None)))
    return PageView(tuple(images), count, target)


def viewer_html(document: rag.Document, citation: rag.Citation, view: PageView | None = None) -> str:
    """The cited page(s) with the quote highlighted when the document has pages, and the full
    text with the quote marked (a window around it for huge documents), one shown at a time."""
    start, end = citation.start, citation.end
    text = document.text
    window_start = 0
    if len(text) > VIEWER_MAX_CHARS:
        window_start = max(0, start - VIEWER_MAX_CHARS // 2)
        text = text[window_start : window_start + VIEWER_MAX_CHARS]
    place = document.place_at(start)
    place_text = f" · {escape(place)}" if place else ""
    note = ""
    if window_start or len(document.text) > VIEWER_MAX_CHARS:
        note = (
            f"<p class='hint'>Showing characters {window_start:,}–{window_start + len(text):,}"
            f" of {len(document.text):,}.</p>"
        )
    view = view or PageView()
    body = highlight(text, start - window_start, end - window_start, "quote-target")
    mode = " has-pages" if view.has_pages else ""
    return (
        f"<div class='viewer{mode}' data-document='{escape(document.id)}'>"
        f"<div class='viewer-head'><span class='viewer-number'>[{citation.number}]</span>"
        f"<div>{place_html(document.title, document.source, '')}"
        f"<span class='hint'>characters {start:,}–{end:,}{place_text}</span></div></div>"
        f"{_pages_html(view)}<div class='text-view'>{note}"
        f"<div class='viewer-text' dir='auto'>{body}</div></div></div>"
    )


def _pages_html(view: PageView) -> str:
    """The page tools (previous/next, zoom, text/page switch) and the drawn pages, or one line why not."""
    problems = "".join(
        f"<p class='hint page-missing'>No page image: {escape(image.problem)}</p>"
        for image in view.images
        if not image.png
    )
    if view.note:
        problems += f"<p class='hint page-missing'>{escape(view.note)}</p>"
    if not view.has_pages:
        return problems
    shown = [image.page for image in view.images if image.png]
    label = f"Page {shown[0]}" if len(shown) == 1 else f"Pages {shown[0]}–{shown[-1]}"
    tools = (
        f"<div class='page-tools'>{_nav(view, shown[0] - 1, '◀ Previous page')}"
        f"<span class='page-count'>{label} of {view.page_count}</span>"
        f"{_nav(view, shown[-1] + 1, 'Next page ▶')}"
        "<span class='zoom'><button class='page-zoom zoom-out' title='Zoom out' aria-label='Zoom out'>−</button>"
        "<button class='page-zoom zoom-fit' title='Fit the width'>Fit</button>"
        "<button class='page-zoom zoom-in' title='Zoom in' aria-label='Zoom in'>+</button></span>"
        "<button class='viewer-mode' title='Switch between the page and the extracted text'>Show text</button>"
        "</div>"
    )
    figures = "".join(_figure_html(image) for image in view.images if image.png)
    return f"{tools}{problems}<div class='page-frame'>{figures}</div>"


def _nav(view: PageView, page: int, label: str) -> str:
    if not 1 <= page <= view.page_count:
        return f"<button class='page-nav' disabled>{label}</button>"
    return f"<button class='page-nav goto-{escape(view.target)}-{page}' title='Page {page}'>{label}</button>"


def _figure_html(image: PageImage) -> str:
    """One page (inline, so it needs no route of its own) and its number."""
    encoded = base64.b64encode(image.png).decode("ascii")
    mark = "" if image.mark_top is None else f" data-mark-top='{image.mark_top:.4f}'"
    described = "with the quote highlighted" if image.mark_top is not None else "of the document"
    return (
        f"<figure class='page' id='page-{image.page}'><img class='page-image'{mark}"
        f" src='data:image/png;base64,{encoded}' alt='Page {image.page} {described}'>"
        f"<figcaption>Page {image.page}</figcaption></figure>"
    )


def thumbnail_of(base: rag.Corpus, document: rag.Document, citation: rag.Citation) -> bytes:
    """A small picture of the quote on its page for a PDF or picture citation; b"" otherwise."""
    draw = getattr(base, "quote_thumbnail", None)
    if document.metadata.get("type") not in PAGED_TYPES or draw is None:
        return b""
    try:
        return bytes(draw(document.source, (citation.start, citation.end), THUMBNAIL_WIDTH))
    except rag.RagError:
        return b""  # the Sources panel shows the quote's text anyway


def thumbnail_html(png: bytes, turn: int, citation: rag.Citation) -> str:
    """The thumbnail as a button that opens the citation in the viewer."""
    if not png:
        return ""
    encoded = base64.b64encode(png).decode("ascii")
    return (
        f"<button class='cite thumb cite-{turn}-{citation.number}' title='Open the page in the document viewer'>"
        f"<img class='quote-thumb' src='data:image/png;base64,{encoded}'"
        f" alt='The quote on its page ({escape(citation.place or 'page')})'></button>"
    )


def viewer_placeholder(message: str = "Click a [n] marker to open its document here.") -> str:
    """The viewer before any citation is opened."""
    return f"<div class='viewer empty'>{escape(message)}</div>"
