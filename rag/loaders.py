"""Turn one file (text, markdown, HTML or PDF) into the text that gets indexed."""

from __future__ import annotations

import codecs
import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path, PurePath

import charset_normalizer
from pypdf import PasswordType, PdfReader

from rag.errors import DocumentError
from rag.html_text import declared_charset, extract_html_text

TITLE_MAX_CHARS = 120
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
PAGE_SEPARATOR = "\n\n"

_FILE_TYPES: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_FILE_TYPES)

_SNIFF_BYTES = 8192
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive (.docx, .xlsx and .epub are ZIPs too)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file"),
)
_BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian mark begins with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MARKDOWN_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_MARKDOWN_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_MAX_PDF_WARNINGS = 10


@dataclass(frozen=True)
class LoadedFile:
    """One file's stored text and what is known about it; offsets index into `text`."""

    source: str
    title: str
    text: str
    page_starts: tuple[int, ...]  # PDF only: offset in `text` where page i + 1 starts
    file_type: str  # "text" | "markdown" | "html" | "pdf"
    warnings: tuple[str, ...]


def is_supported(path: Path) -> bool:
    """Return whether the file's extension is one Verbatim can load."""
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> LoadedFile:
    """Read and extract one file from disk; raise DocumentError if it cannot be used."""
    source = str(path)
    _file_type(source)  # an unsupported type is reported before the disk is touched
    if not path.is_file():
        problem = "does not exist" if not path.exists() else "is not a regular file"
        raise DocumentError(f"{source} {problem}; check the path")
    try:
        # Checked before reading so an oversized file is never pulled into memory.
        check_size(source, path.stat().st_size, max_bytes)
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"{source} could not be read ({error.strerror}); check it") from error
    return load_bytes(source, data, max_bytes)


def load_bytes(name: str, data: bytes, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> LoadedFile:
    """Extract an uploaded file's text; `name` supplies the extension and the source."""
    file_type = _file_type(name)
    check_size(name, len(data), max_bytes)
    check_content_matches_type(name, data)
    if file_type == "pdf":
        return _load_pdf(name, data)
    declared = declared_charset(data) if file_type == "html" else None
    decoded, warnings = _decode(data, declared)
    if file_type == "html":
        page = extract_html_text(decoded)
        text, title = page.text, page.title
    else:
        text = decoded
        title = _markdown_title(decoded) if file_type == "markdown" else _first_line_title(decoded)
    _require_text(name, text)
    return LoadedFile(name, title or PurePath(name).stem, text, (), file_type, warnings)


def check_content_matches_type(name: str, data: bytes) -> None:
    """Raise DocumentError if the bytes are not what the file's extension claims."""
    file_type = _file_type(name)
    if not data:
        raise DocumentError(f"{name} is empty; there is nothing to index")
    head = data[:_SNIFF_BYTES]
    kind = _binary_kind(head)
    if file_type == "pdf":
        # Readers accept junk before the header as long as it is in the first 1 KB.
        if b"%PDF-" not in head[:1024]:
            looks_like = f"it looks like {kind}" if kind else "no %PDF- header"
            raise DocumentError(f"{name} is not a PDF ({looks_like}); check the file")
        return
    if kind:
        hint = "rename it to .pdf" if kind == "a PDF" else "convert it to text or PDF first"
        raise DocumentError(f"{name} is {kind}, not {file_type}; {hint}")
    is_wide_unicode = (_byte_order_mark_encoding(head) or "").startswith(("utf-16", "utf-32"))
    if b"\x00" in head and not is_wide_unicode:
        raise DocumentError(
            f"{name} looks binary (it contains NUL bytes); if it is UTF-16 text, save it as UTF-8"
        )


def _file_type(name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    if suffix not in _FILE_TYPES:
        described = f"type '{suffix}'" if suffix else "no file extension"
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DocumentError(f"{name} has {described}; supported types are {supported}")
    return _FILE_TYPES[suffix]


def check_size(name: str, size: int, max_bytes: int) -> None:
    """Raise DocumentError for an empty file or one over max_bytes."""
    if size == 0:
        raise DocumentError(f"{name} is empty; there is nothing to index")
    if size > max_bytes:
        raise DocumentError(
            f"{name} is {_format_size(size)}, over the {_format_size(max_bytes)} limit;"
            " split it or raise the file size limit"
        )


def _format_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _binary_kind(head: bytes) -> str | None:
    return next((kind for magic, kind in _BINARY_SIGNATURES if head.startswith(magic)), None)


def _require_text(name: str, text: str) -> None:
    if not text.strip():
        raise DocumentError(f"{name} has no text to index (only whitespace or markup)")


def _byte_order_mark_encoding(data: bytes) -> str | None:
    return next((codec for mark, codec in _BYTE_ORDER_MARKS if data.startswith(mark)), None)


def _decode(data: bytes, declared: str | None) -> tuple[str, tuple[str, ...]]:
    expected = _byte_order_mark_encoding(data) or declared or "utf-8"
    for codec in _candidate_codecs(data, expected):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if codec == expected:
            return text, ()
        return text, (f"not valid {_codec_label(expected)}; decoded as {codec}",)
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _candidate_codecs(data: bytes, expected: str) -> Iterator[str]:
    yield expected
    if expected != "utf-8":
        yield "utf-8"
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is not None:
        # The detector often ties cp1252 with cp1250/cp1257 on Western text and then
        # picks the wrong one; cp1252 is by far the likelier legacy encoding.
        tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
        if any("cp1252" in match.could_be_from_charset for match in tied):
            yield "cp1252"
        # Without a byte-order mark a UTF-16/32 guess is noise (ours has no NUL bytes).
        if not best.encoding.startswith(("utf_16", "utf_32")):
            yield best.encoding
    yield "cp1252"
    yield "latin-1"


def _codec_label(codec: str) -> str:
    return codec.removesuffix("-sig").upper() if codec.startswith("utf") else codec


def _first_line_title(text: str) -> str | None:
    """A plain-text file's first line, when it is short enough to be a headline."""
    for line in text.splitlines():
        if line.strip():
            return line.strip() if len(line.strip()) <= TITLE_MAX_CHARS else None
    return None


def _markdown_title(text: str) -> str | None:
    in_fence = False
    for line in text.splitlines():
        if _MARKDOWN_FENCE.match(line):
            in_fence = not in_fence  # a "# comment" inside a code block is not a heading
        elif not in_fence and (match := _MARKDOWN_H1.match(line)):
            return match.group(1).strip()
    return None


def _load_pdf(name: str, data: bytes) -> LoadedFile:
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
