"""Page images: a PDF page or a picture at a requested width, a quote's boxes highlighted, cached.

The index keeps text, not files: a page is drawn from the original file at the source it was
ingested from (uploads are kept inside the index folder), checked against the content hash
recorded at ingest, so a file changed since then is never shown as the source of a quote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from rag.errors import DocumentError, NotFoundError
from rag.pages import raster
from rag.pages.geometry import Box

DEFAULT_WIDTH = 1000
MIN_WIDTH = 64
MAX_WIDTH = 3000
# About a 2,000 px wide A4 page. A page of any shape is scaled down to fit: a 10,000 x 10,000 pt
# page at 3,000 px is 9 MP, drawn at 2,449 x 2,449 instead (24 MB of RGBA while it is drawn).
MAX_PIXELS = 6_000_000
# A picture is opened at most this big (as OCR reads it); anything bigger is refused.
MAX_PICTURE_PIXELS = 40_000_000
PAGED_TYPES = ("pdf", "image")


@dataclass(frozen=True)
class PageRequest:
    """One page image: which page of which file, how wide, and what to highlight."""

    name: str  # the document's source, for messages
    file_type: str  # "pdf" or "image"
    page: int  # 1-based
    width: int
    boxes: tuple[Box, ...] = ()


def clamped_width(width: int | None) -> int:
    """The requested width within [MIN_WIDTH, MAX_WIDTH]; DEFAULT_WIDTH when None."""
    return DEFAULT_WIDTH if width is None else max(MIN_WIDTH, min(MAX_WIDTH, int(width)))


def fitted(width: float, height: float, target_width: int) -> tuple[float, int, int]:
    """(scale, pixel width, pixel height) of a width x height page drawn target_width wide,
    scaled down further so it holds at most MAX_PIXELS."""
    scale = target_width / max(width, 1e-6)
    if width * height * scale * scale > MAX_PIXELS:
        scale = 0.999 * (MAX_PIXELS / max(width * height, 1e-6)) ** 0.5  # room for rounding up
    return scale, max(1, round(width * scale)), max(1, round(height * scale))


def draw_page(data: bytes, request: PageRequest) -> bytes:
    """The PNG of one page of the file's bytes, highlighted."""
    if request.file_type == "pdf":
        document = raster.open_pdf(request.name, data)
        try:
            if not 1 <= request.page <= len(document):
                raise NotFoundError(f"{request.name} has {len(document)} pages, not a page {request.page}")
            width, height = raster.page_size(document, request.page - 1)
            scale, _, _ = fitted(width, height, request.width)
            try:
                image = raster.render_pdf_page(document, request.page - 1, scale)
            except raster.RasterError as error:
                raise DocumentError(
                    f"page {request.page} of {request.name} could not be drawn ({error})"
                ) from error
        finally:
            document.close()
    elif request.file_type == "image":
        picture = raster.picture_frame(request.name, data, request.page, MAX_PICTURE_PIXELS)
        _, pixel_width, pixel_height = fitted(picture.width, picture.height, request.width)
        image = raster.scaled(picture, pixel_width, pixel_height)
    else:
        raise DocumentError(no_page_images(request.name, request.file_type))
    return raster.png_bytes(raster.highlighted(image, request.boxes))


def no_page_images(name: str, file_type: str) -> str:
    """Why a document has no page image to show."""
    kind = f"a {file_type} file" if file_type else "stored as text"
    return f"{PurePath(name).name} is {kind}: only PDFs and pictures have page images; read the quote in the text"


def read_original(source: str, content_hash: str) -> bytes:
    """The bytes of the file a document was ingested from, if it is still the same file."""
    try:
        data = Path(source).read_bytes()
    except OSError as error:
        raise NotFoundError(
            f"the original of {source} cannot be read ({error.strerror}): page images are drawn from"
            " the file itself; put it back, or ingest it again from where it is now"
        ) from error
    if hashlib.sha256(data).hexdigest() != content_hash:
        raise NotFoundError(f"{source} has changed since it was ingested: ingest it again to see its pages")
    return data


def boxes_key(boxes: Sequence[Box]) -> tuple[Box, ...]:
    """Boxes rounded for a cache key: the same quote always hits the same entry."""
    return tuple(tuple(round(value, 5) for value in box) for box in boxes)  # type: ignore[misc]


# Room kept around a quote in its thumbnail, as fractions of the page: a line or two of what
# surrounds it, so the quote is seen in its place.
THUMBNAIL_MARGIN = (0.03, 0.05)
# A thumbnail shrinks the drawn page at most this much (so its letters stay readable); a wider
# quote is shown from its start.
THUMBNAIL_MIN_SCALE = 0.6


def region_of(png: bytes, boxes: Sequence[Box], width: int) -> bytes:
    """The part of a drawn page around the boxes (with a margin), at most `width` pixels wide."""
    horizontal, vertical = THUMBNAIL_MARGIN
    region = (
        max(0.0, min(box[0] for box in boxes) - horizontal),
        max(0.0, min(box[1] for box in boxes) - vertical),
        min(1.0, max(box[2] for box in boxes) + horizontal),
        min(1.0, max(box[3] for box in boxes) + vertical),
    )
    page = raster.opened_png(png)
    widest = width / THUMBNAIL_MIN_SCALE / page.width
    region = (region[0], region[1], min(region[2], region[0] + widest), region[3])
    return raster.png_bytes(raster.cropped(page, region, width))
