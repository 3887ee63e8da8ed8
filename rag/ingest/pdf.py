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

from rag.errors import DocumentError
from rag.types import LoadedFile

PAGE_SEPARATOR = "\n\n"
_MAX_PDF_WARNINGS = 10


def load_pdf(name: str, data: bytes) -> LoadedFile:
    """The text of every page; pages that fail to extract become warnings, not failures."""
    with _collected_pypdf_warnings() as warnings:
        reader = _open_pdf(name, data)
        page_texts = [_page_text(reader, number, warnings) for number in range(len(reader.pages))]
        title = _pdf_title(reader)
    text = PAGE_SEPARATOR.join(page_texts)
    page_starts = accumulate((len(page) + len(PAGE_SEPARATOR) for page in page_texts[:-1]), initial=0)
    if not text.strip():
        raise DocumentError(f"{name} has no extractable text; if it is scanned, run OCR first")
    unique_warnings = tuple(dict.fromkeys(warnings))[:_MAX_PDF_WARNINGS]
    stem = PurePath(name).stem
    return LoadedFile(name, title or stem, text, tuple(page_starts), "pdf", unique_warnings)


def _open_pdf(name: str, data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
        if not locked:
            len(reader.pages)  # a broken page tree should fail here, not halfway through
    except Exception as error:  # pypdf raises many types for malformed files
        reason = _reason(error)
        raise DocumentError(f"{name} is not a readable PDF ({reason}); try re-saving it") from error
    if locked:
        raise DocumentError(f"{name} is encrypted; decrypt it first")
    return reader


def _page_text(reader: PdfReader, number: int, warnings: list[str]) -> str:
    try:
        return reader.pages[number].extract_text()
    except Exception as error:  # noqa: BLE001 - one bad page should not cost the whole document
        warnings.append(f"page {number + 1}: no text extracted ({_reason(error)})")
        return ""


def _pdf_title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata is not None else None
    except Exception:  # noqa: BLE001 - the title is a nicety; a bad info dictionary is not fatal
        return None
    return " ".join(str(title or "").split()) or None


def _reason(error: Exception) -> str:
    return " ".join(str(error).split())[:200] or type(error).__name__


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
