"""The one module that drives pypdfium2 and Pillow: PDF pages rendered and read, pictures opened,
highlights drawn, PNGs written."""

from __future__ import annotations

import ctypes
import io
from collections.abc import Iterator, Sequence

import pypdfium2
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageSequence, UnidentifiedImageError

from rag.errors import DocumentError

Box = tuple[float, float, float, float]  # fractions of the displayed page, from its top left
HIGHLIGHT = (255, 214, 0, 110)  # translucent yellow over the page
RasterError = pypdfium2.PdfiumError
PdfDocument = pypdfium2.PdfDocument
PilImage = Image.Image


def open_pdf(name: str, data: bytes) -> pypdfium2.PdfDocument:
    """The PDF opened by pdfium; a DocumentError when pdfium cannot read it."""
    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        raise DocumentError(f"{name} could not be opened for rendering ({error}); re-save it") from error


def page_characters(document: pypdfium2.PdfDocument, index: int) -> tuple[str, list[Box | None]]:
    """A page's text as pdfium reads it, and each character's box (None for whitespace)."""
    page = document[index]
    try:
        text_page = page.get_textpage()
        try:
            count = text_page.count_chars()
            text = text_page.get_text_range(0, count)
            if len(text) != count:  # one text character per pdfium character, for the indices
                text = "".join(
                    chr(pdfium_c.FPDFText_GetUnicode(text_page.raw, i) or 0xFFFD) for i in range(count)
                )
            crop = page.get_cropbox()
            rotation = page.get_rotation() % 360
            # One reused struct, called directly: half the time of get_charbox (15 vs 23 ms a page).
            rectangle = pdfium_c.FS_RECTF()
            pointer = ctypes.byref(rectangle)
            boxes: list[Box | None] = []
            for position, character in enumerate(text):
                if character.isspace() or not pdfium_c.FPDFText_GetLooseCharBox(
                    text_page.raw, position, pointer
                ):
                    boxes.append(None)
                    continue
                charbox = (rectangle.left, rectangle.bottom, rectangle.right, rectangle.top)
                boxes.append(_displayed(charbox, crop, rotation))
        finally:
            text_page.close()
    finally:
        page.close()
    return text, boxes


def _displayed(charbox: tuple[float, ...], crop: tuple[float, ...], rotation: int) -> Box | None:
    """A character box in page space as fractions of the page as it is displayed (rotated)."""
    left, bottom, right, top = charbox
    if right <= left or top <= bottom:
        return None  # generated or empty: a space, a line break pdfium added
    width, height = crop[2] - crop[0], crop[3] - crop[1]
    if width <= 0 or height <= 0:
        return None
    x0, x1 = (left - crop[0]) / width, (right - crop[0]) / width
    y0, y1 = (crop[3] - top) / height, (crop[3] - bottom) / height
    if rotation == 90:  # shown turned clockwise: the top left corner goes to the top right
        return 1 - y1, x0, 1 - y0, x1
    if rotation == 180:
        return 1 - x1, 1 - y1, 1 - x0, 1 - y0
    if rotation == 270:
        return y0, 1 - x1, y1, 1 - x0
    return x0, y0, x1, y1


def page_size(document: pypdfium2.PdfDocument, index: int) -> tuple[float, float]:
    """The displayed width and height of a page, in points."""
    page = document[index]
    try:
        width, height = page.get_size()
    finally:
        page.close()
    return float(width), float(height)


def render_pdf_page(
    document: pypdfium2.PdfDocument, index: int, scale: float, grayscale: bool = False
) -> Image.Image:
    """One page rendered at `scale` pixels per point."""
    page = document[index]
    try:
        return page.render(scale=scale, grayscale=grayscale).to_pil()
    finally:
        page.close()


def image_frames(
    name: str, data: bytes, max_frames: int, max_pixels: int
) -> Iterator[tuple[Image.Image, int | None]]:
    """Each frame of a picture (every page of a TIFF) with its resolution; DocumentError for a
    non-image, too many frames or a frame over max_pixels."""
    try:
        image = Image.open(io.BytesIO(data))
        frame_count = getattr(image, "n_frames", 1)
        if frame_count > max_frames:
            raise DocumentError(f"{name} has {frame_count} frames; OCR is limited to {max_frames} per file")
        for frame in ImageSequence.Iterator(image):
            if frame.width * frame.height > max_pixels:
                raise DocumentError(
                    f"{name} is {frame.width}x{frame.height} pixels, over the {max_pixels:,} OCR limit; scale it down"
                )
            dpi = frame.info.get("dpi", (0, 0))[0]
            yield frame, round(dpi) if dpi else None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise DocumentError(f"{name} is not a readable image ({error}); check the file") from error


def picture_frame(name: str, data: bytes, number: int, max_pixels: int) -> Image.Image:
    """Frame `number` (1-based) of a picture, as RGB."""
    for index, (frame, _) in enumerate(image_frames(name, data, 1_000_000, max_pixels), start=1):
        if index == number:
            return frame.convert("RGB")
    raise DocumentError(f"{name} has no page {number}")


def scaled(image: Image.Image, width: int, height: int) -> Image.Image:
    """The image resized to width x height (a picture shown at the requested width)."""
    return image if image.size == (width, height) else image.resize((width, height), Image.Resampling.LANCZOS)


def highlighted(image: Image.Image, boxes: Sequence[Box]) -> Image.Image:
    """The image with each box (fractions of it) painted over in translucent yellow.

    Only the boxes' regions are blended: blending the whole page cost as much as drawing it.
    """
    result = image if image.mode == "RGB" else image.convert("RGB")  # drawn in place: the page is ours
    width, height = result.size
    colour, alpha = HIGHLIGHT[:3], HIGHLIGHT[3] / 255
    for left, top, right, bottom in boxes:
        region = (
            max(0, round(left * width) - 1),
            max(0, round(top * height) - 1),
            min(width, round(right * width) + 1),
            min(height, round(bottom * height) + 1),
        )
        if region[2] <= region[0] or region[3] <= region[1]:
            continue
        patch = result.crop(region)
        result.paste(Image.blend(patch, Image.new("RGB", patch.size, colour), alpha), region)
    return result


def png_bytes(image: Image.Image, grayscale: bool = False) -> bytes:
    """The image as PNG (grayscale for OCR, RGB otherwise)."""
    buffer = io.BytesIO()
    image.convert("L" if grayscale else "RGB").save(
        buffer, format="PNG", compress_level=1 if not grayscale else 6
    )
    return buffer.getvalue()


def opened_png(png: bytes) -> Image.Image:
    """A PNG this module wrote, opened again."""
    return Image.open(io.BytesIO(png))


def cropped(image: Image.Image, region: Box, max_width: int) -> Image.Image:
    """The region (fractions of the image) cut out, scaled down to at most max_width pixels wide."""
    width, height = image.size
    left, top = int(region[0] * width), int(region[1] * height)
    right, bottom = max(left + 1, round(region[2] * width)), max(top + 1, round(region[3] * height))
    part = image.crop((left, top, right, bottom))
    if part.width > max_width:
        part = part.resize(
            (max_width, max(1, round(part.height * max_width / part.width))), Image.Resampling.LANCZOS
        )
    return part
