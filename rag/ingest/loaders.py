"""Turn one file (text, markdown, HTML or PDF) into the text that gets indexed."""

from __future__ import annotations

import re
from pathlib import Path, PurePath

from rag.display import format_bytes
from rag.errors import DocumentError
from rag.ingest.decoding import byte_order_mark_encoding, decode
from rag.ingest.html import declared_charset, extract_html_text
from rag.ingest.pdf import load_pdf
from rag.types import LoadedFile

TITLE_MAX_CHARS = 120
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024

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
_MARKDOWN_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_MARKDOWN_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")


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
        return load_pdf(name, data)
    declared = declared_charset(data) if file_type == "html" else None
    decoded, warnings = decode(data, declared)
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
    is_wide_unicode = (byte_order_mark_encoding(head) or "").startswith(("utf-16", "utf-32"))
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
            f"{name} is {format_bytes(size)}, over the {format_bytes(max_bytes)} limit;"
            " split it or raise the file size limit"
        )


def _binary_kind(head: bytes) -> str | None:
    return next((kind for magic, kind in _BINARY_SIGNATURES if head.startswith(magic)), None)


def _require_text(name: str, text: str) -> None:
    if not text.strip():
        raise DocumentError(f"{name} has no text to index (only whitespace or markup)")


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
