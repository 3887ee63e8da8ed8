"""PDF files: the text of each page, joined, with the offset where each page starts."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import accumulate
from pathlib import PurePath

from pypdf import PasswordType, PdfReader

from rag.display import format_bytes
from rag.errors import DocumentError
from rag.ingest.blocks import reason
from rag.ingest.pdf_tables import pdf_tables
from rag.settings import OcrSettings
from rag.types import LoadedFile, Location, PageGeometry

PAGE_SEPARATOR = "\n\n"
_MAX_PDF_WARNINGS = 10
_MAX_PAGES_MEASURED = 50
# A scanned page is a few drawing operators around an image; megabytes of them with no text
# are not a scan.
_TEXTLESS_CONTENT_BYTES = 8 * 1024 * 1024


def load_pdf(name: str, data: bytes, ocr: OcrSettings | None = None) -> LoadedFile:
    """The text of every page, pages without a text layer read by OCR; a bad page is a warning."""
    with _collected_pypdf_warnings() as warnings:
        reader = _open_pdf(name, data)
        page_texts = [_page_text(reader, number, warnings) for number in range(len(reader.pages))]
        title = _pdf_title(reader)
        if not any(page.strip() for page in page_texts):
            problem = _not_a_scan(name, reader, warnings)
            if problem:
                raise DocumentError(problem)  # OCR would not help: say what is wrong instead
    blank_pages = [number for number, page in enumerate(page_texts, 1) if not page.strip()]
    ocr_geometry: list[PageGeometry] = []
    metadata = _read_blank_pages(
        name, data, page_texts, blank_pages, ocr or OcrSettings(), warnings, ocr_geometry
    )
    text = PAGE_SEPARATOR.join(page_texts)
    page_starts = tuple(accumulate((len(page) + len(PAGE_SEPARATOR) for page in page_texts[:-1]), initial=0))
    geometry = _text_layer_geometry(name, data, page_texts, page_starts, set(blank_pages), warnings)
    tables = pdf_tables(text, geometry)
    if tables:
        metadata = {**metadata, "tables": tables}
    geometry += [page.moved(page_starts[page.page - 1]) for page in ocr_geometry]
    locations: tuple[Location, ...] = ()
    if metadata:
        # Every page gets a location, so a quote from a text-layer page does not inherit "(OCR)".
        locations = tuple(
            Location(start, f"page {number} (OCR)" if number in blank_pages else f"page {number}")
            for number, start in enumerate(page_starts, 1)
        )
    unique_warnings = tuple(dict.fromkeys(warnings))[:_MAX_PDF_WARNINGS]
    stem = PurePath(name).stem
    return LoadedFile(
        name,
        title or stem,
        text,
        page_starts,
        "pdf",
        unique_warnings,
        locations,
        metadata,
        tuple(sorted(geometry, key=lambda page: page.page)),
    )


def _text_layer_geometry(
    name: str,
    data: bytes,
    page_texts: list[str],
    page_starts: tuple[int, ...],
    skipped: set[int],
    warnings: list[str],
) -> list[PageGeometry]:
    """Each text-layer page's word boxes: pdfium's character boxes matched to the stored text.

    pypdf's text is what is stored (changing it would change every PDF's document id and
    offsets); pdfium reads the same characters with their boxes, in its own order and spacing.
    """
    # Imported here: pdfium and the image library load only for PDFs.
    from rag.pages import raster
    from rag.pages.geometry import text_layer_runs

    try:
        document = raster.open_pdf(name, data)
    except DocumentError as error:
        warnings.append(f"no page positions: {error}")
        return []
    geometry = []
    try:
        for number, (page_text, start) in enumerate(zip(page_texts, page_starts, strict=True), 1):
            if number in skipped or not page_text.strip():
                continue
            try:
                extracted, boxes = raster.page_characters(document, number - 1)
            except raster.RasterError as error:
                warnings.append(f"page {number}: no positions ({error})")
                continue
            geometry.append(
                PageGeometry(number, "text layer", text_layer_runs(page_text, start, extracted, boxes))
            )
    finally:
        document.close()
    return geometry


def _read_blank_pages(
    name: str,
    data: bytes,
    page_texts: list[str],
    blank_pages: list[int],
    ocr: OcrSettings,
    warnings: list[str],
    geometry: list[PageGeometry],
) -> dict[str, object]:
    """OCR the pages without a text layer into page_texts (their word boxes, page-relative, into
    geometry); return the OCR metadata ({} if none)."""
    if not blank_pages:
        return {}
    # Imported here: the rendering and image libraries load only for scanned pages.
    from rag.ingest import ocr as ocr_reader

    try:
        pages = ocr_reader.ocr_pdf_pages(name, data, blank_pages, ocr)
    except DocumentError as error:
        if not any(text.strip() for text in page_texts):
            raise
        # The pages with a text layer are still worth indexing when OCR cannot run.
        warnings.append(f"pages without a text layer were not read: {error}")
        return {}
    for page in pages:
        page_texts[page.number - 1] = page.text
        if page.runs:
            geometry.append(page.geometry(0))
    if not any(text.strip() for text in page_texts):
        raise DocumentError(ocr_reader.no_text_reason(name, pages))
    warnings.extend(ocr_reader.ocr_warnings(pages, ocr.min_confidence))
    return {"ocr": ocr_reader.ocr_metadata(pages, ocr)}


def _not_a_scan(name: str, reader: PdfReader, warnings: list[str]) -> str | None:
    """Why a PDF without text is not a scan to OCR: failed pages, or pages of nothing but
    drawing instructions (a decompression bomb); None when it may well be a scan."""
    failed = [warning for warning in warnings if warning.startswith("page ")]
    if failed and len(failed) >= len(reader.pages):
        return f"{name}: no page's text could be extracted ({failed[0]}); try re-saving the PDF"
    unpacked = 0
    for page in reader.pages[:_MAX_PAGES_MEASURED]:
        try:
            contents = page.get_contents()
            unpacked += len(contents.get_data()) if contents is not None else 0
        except Exception as error:  # noqa: BLE001 - a stream pypdf refuses to unpack is the answer
            return (
                f"{name} has no extractable text: a page's content stream cannot be unpacked"
                f" ({reason(error)}; a decompression bomb?)"
            )
    if unpacked > _TEXTLESS_CONTENT_BYTES:
        return (
            f"{name} has no extractable text: its pages unpack to {format_bytes(unpacked)} of drawing"
            " instructions without any text (a decompression bomb?); check where the file came from"
        )
    return None


def _open_pdf(name: str, data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
        if not locked:
            len(reader.pages)  # a broken page tree should fail here, not halfway through
    except Exception as error:  # pypdf raises many types for malformed files
        raise DocumentError(f"{name} is not a readable PDF ({reason(error)}); try re-saving it") from error
    if locked:
        raise DocumentError(f"{name} is encrypted; decrypt it first")
    return reader


def _page_text(reader: PdfReader, number: int, warnings: list[str]) -> str:
    try:
        return reader.pages[number].extract_text()
    except Exception as error:  # noqa: BLE001 - one bad page should not cost the whole document
        warnings.append(f"page {number + 1}: no text extracted ({reason(error)})")
        return ""


def _pdf_title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata is not None else None
    except Exception:  # noqa: BLE001 - the title is a nicety; a bad info dictionary is not fatal
        return None
    return " ".join(str(title or "").split()) or None


class _ThreadWarningCollector(logging.Handler):
    """Hands pypdf's log records to the PDF load running on the same thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        collected: list[str] | None = getattr(self.local, "collected", None)
        if collected is not None:
            collected.append(record.getMessage())


# pypdf logs a warning for every harmless spec deviation it works around; those belong
# in the file's warnings, not on the console.
_PYPDF_WARNINGS = _ThreadWarningCollector()
logging.getLogger("pypdf").addHandler(_PYPDF_WARNINGS)
logging.getLogger("pypdf").propagate = False


@contextmanager
def _collected_pypdf_warnings() -> Iterator[list[str]]:
    collected: list[str] = []
    _PYPDF_WARNINGS.local.collected = collected
    try:
        yield collected
    finally:
        _PYPDF_WARNINGS.local.collected = None
