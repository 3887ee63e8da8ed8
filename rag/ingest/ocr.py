"""OCR through Debian's tesseract binary: images and PDF pages without a text layer, with per-page limits."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from rag.errors import DocumentError
from rag.ingest.blocks import TextBuilder
from rag.ingest.scan_text import parse_tsv
from rag.pages import raster
from rag.settings import OcrSettings
from rag.types import LoadedFile, PageGeometry

RENDER_DPI = 300
MAX_PAGE_PIXELS = 40_000_000  # about A3 at 300 dpi; bigger pages are rendered at a lower resolution
MAX_OCR_PAGES = 300


@dataclass(frozen=True)
class OcrPage:
    """The text tesseract read on one page and its mean word confidence (0-100; None if no words)."""

    number: int
    text: str
    confidence: float | None
    problem: str = ""  # why the page has no text: a timeout, a tesseract error, an oversized page
    runs: tuple[int, ...] = ()  # each word's offsets in `text` and box (rag.types.PageGeometry)

    def geometry(self, offset: int) -> PageGeometry:
        """The page's word boxes, with offsets moved to where its text starts in the document."""
        return PageGeometry(self.number, "ocr", self.runs).moved(offset)


def load_image(name: str, data: bytes, settings: OcrSettings | None = None) -> LoadedFile:
    """OCR a .png/.jpg/.tiff (every frame of a TIFF is a page); raise DocumentError if nothing is read."""
    settings = settings or OcrSettings()
    check_languages(settings.languages)
    with warnings.catch_warnings():
        # Pillow warns on the console about damaged metadata (EXIF) it reads past anyway.
        warnings.simplefilter("ignore", UserWarning)
        pages = [
            _read_png(number, raster.png_bytes(frame, grayscale=True), settings, dpi)
            for number, (frame, dpi) in enumerate(
                raster.image_frames(name, data, MAX_OCR_PAGES, MAX_PAGE_PIXELS), 1
            )
        ]
    return ocr_result(name, "image", pages, settings)


def ocr_pdf_pages(
    name: str, data: bytes, page_numbers: list[int], settings: OcrSettings | None = None
) -> list[OcrPage]:
    """OCR the given 1-based pages of a PDF (those without a text layer), rendered at 300 dpi."""
    settings = settings or OcrSettings()
    check_languages(settings.languages)
    if len(page_numbers) > MAX_OCR_PAGES:
        raise DocumentError(
            f"{name} has {len(page_numbers)} pages without text; OCR is limited to {MAX_OCR_PAGES} per file, split it"
        )
    document = raster.open_pdf(name, data)
    try:
        return [_read_pdf_page(document, number, settings) for number in page_numbers]
    finally:
        document.close()


def ocr_result(name: str, file_type: str, pages: list[OcrPage], settings: OcrSettings) -> LoadedFile:
    """A LoadedFile of OCR pages: page starts, "page n (OCR)" locations, confidences and warnings."""
    builder = TextBuilder()
    geometry = []
    for page in pages:
        builder.add(
            page.text or f"[page {page.number}: no text recognised]",
            label=f"page {page.number} (OCR)",
            new_page=True,
        )
        if page.runs:
            geometry.append(page.geometry(builder.page_starts[-1]))
    if not any(page.text for page in pages):
        raise DocumentError(no_text_reason(name, pages))
    return LoadedFile(
        name,
        PurePath(name).stem,
        builder.text,
        tuple(builder.page_starts),
        file_type,
        tuple(ocr_warnings(pages, settings.min_confidence)),
        tuple(builder.locations),
        {"ocr": ocr_metadata(pages, settings)},
        tuple(geometry),
    )


def ocr_metadata(pages: list[OcrPage], settings: OcrSettings) -> dict[str, object]:
    """What is stored with the document about its OCR: languages, pages and their mean confidence."""
    return {
        "languages": settings.languages,
        "pages": [page.number for page in pages],
        "confidence": [None if page.confidence is None else round(page.confidence, 1) for page in pages],
    }


def no_text_reason(name: str, pages: list[OcrPage]) -> str:
    """The one-line reason a file yielded no text, naming what went wrong on its pages."""
    problems = "; ".join(dict.fromkeys(page.problem for page in pages if page.problem))
    found = f"OCR found no text on its {len(pages)} page{'s' if len(pages) != 1 else ''}"
    return f"{name} has no text layer and {found}{f' ({problems})' if problems else ''}; check the scan"


def ocr_warnings(pages: list[OcrPage], min_confidence: float) -> Iterator[str]:
    """One warning per page that failed or whose mean confidence is under min_confidence."""
    for page in pages:
        if page.problem:
            yield f"page {page.number}: {page.problem}"
        elif page.confidence is not None and page.confidence < min_confidence:
            yield (
                f"page {page.number}: OCR confidence {page.confidence:.0f}/100 is under {min_confidence:.0f};"
                " check quotes from it against the original"
            )


@functools.cache
def installed_languages() -> frozenset[str]:
    """Language packs tesseract can use; raise DocumentError if tesseract is missing."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise DocumentError("OCR needs tesseract; install it with: apt-get install tesseract-ocr")
    listing = subprocess.run(
        [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    )
    return frozenset(line.strip() for line in listing.stdout.splitlines()[1:] if line.strip())


def check_languages(languages: str) -> None:
    """Raise DocumentError naming the Debian package of each language pack that is missing."""
    missing = [code for code in languages.split("+") if code not in installed_languages()]
    if missing:
        packages = " ".join(f"tesseract-ocr-{code.lower().replace('_', '-')}" for code in missing)
        raise DocumentError(
            f"OCR language {'+'.join(missing)} is not installed; install it with: apt-get install {packages}"
        )


def _read_pdf_page(document: raster.PdfDocument, number: int, settings: OcrSettings) -> OcrPage:
    try:
        width, height = raster.page_size(document, number - 1)
        scale = RENDER_DPI / 72
        scale = min(scale, (MAX_PAGE_PIXELS / max(width * height, 1)) ** 0.5)
        image = raster.render_pdf_page(document, number - 1, scale, grayscale=True)
    except raster.RasterError as error:
        return OcrPage(number, "", None, f"could not be rendered for OCR ({error})")
    return _read_png(number, raster.png_bytes(image, grayscale=True), settings, round(scale * 72))


def _read_png(number: int, png: bytes, settings: OcrSettings, dpi: int | None) -> OcrPage:
    """Run tesseract on one page image (on stdin) within the time limit; TSV output carries confidences."""
    command = ["tesseract", "stdin", "stdout", "-l", settings.languages]
    if dpi:
        command += ["--dpi", str(dpi)]
    try:
        result = subprocess.run(
            [*command, "tsv"],
            input=png,
            capture_output=True,
            timeout=settings.page_timeout_seconds,
            check=False,
            # tesseract's OpenMP threads made a dense page 3-10x slower on 2 cores (2 s vs 7-20 s).
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired:
        return OcrPage(number, "", None, f"OCR took over {settings.page_timeout_seconds:g} s and was stopped")
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        return OcrPage(number, "", None, f"tesseract failed ({reason[0][:200]})")
    text, confidence, runs = parse_tsv(result.stdout.decode("utf-8", "replace"))
    return OcrPage(number, text, confidence, runs=runs)
