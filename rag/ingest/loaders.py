"""Turn one file into the text that gets indexed: check its content against its extension, then
hand it to its format's parser (formats.py), in a bounded child process (sandbox.py) when limited."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from rag.display import format_bytes
from rag.errors import DocumentError
from rag.ingest.archive import CONTAINERS, binary_kind, check_zip_signature
from rag.ingest.decoding import byte_order_mark_encoding
from rag.ingest.formats import BOUNDED_TYPES, OCR_TYPES, SUPPORTED_SUFFIXES, extract_text, file_type_of
from rag.ingest.sandbox import ParseLimits, run_bounded
from rag.settings import OcrSettings
from rag.types import LoadedFile

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
# A .jpg that is really a PNG is still a picture to read: any of the formats will do.
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")

_SNIFF_BYTES = 8192


def is_supported(path: Path) -> bool:
    """Return whether the file's extension is one Verbatim can load."""
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> LoadedFile:
    """Read and extract one file from disk; raise DocumentError if it cannot be used."""
    source = str(path)
    file_type_of(source)  # an unsupported type is reported before the disk is touched
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


def load_bytes(
    name: str,
    data: bytes,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ocr: OcrSettings | None = None,
    limits: ParseLimits | None = None,
) -> LoadedFile:
    """Extract an uploaded file's text; `name` supplies the extension and the source.

    With limits, every format with a parser of its own is parsed in a bounded child process.
    """
    file_type = file_type_of(name)
    check_size(name, len(data), max_bytes)
    check_content_matches_type(name, data)
    if limits is not None and file_type in BOUNDED_TYPES:
        options = {"ocr": asdict(ocr or OcrSettings())} if file_type in OCR_TYPES else {}
        return run_bounded(extract_text, name, data, limits, options)
    return extract_text(name, data, ocr)


def check_content_matches_type(name: str, data: bytes) -> None:
    """Raise DocumentError if the bytes (the whole file or its start) are not what the extension claims."""
    file_type = file_type_of(name)
    if not data:
        raise DocumentError(f"{name} is empty; there is nothing to index")
    head = data[:_SNIFF_BYTES]
    kind = binary_kind(head)
    if file_type in CONTAINERS:
        # What the ZIP holds is checked by its loader (rag.ingest.archive), which needs all of it.
        check_zip_signature(name, head, file_type)
        return
    if file_type == "image":
        if not head.startswith(_IMAGE_SIGNATURES):
            looks_like = kind or "not a PNG, JPEG or TIFF image"
            raise DocumentError(f"{name} is not an image to read (it is {looks_like}); check it")
        return
    if file_type == "pdf":
        # Readers accept junk before the header as long as it is in the first 1 KB.
        if b"%PDF-" not in head[:1024]:
            looks_like = f"it looks like {kind}" if kind else "no %PDF- header"
            raise DocumentError(f"{name} is not a PDF ({looks_like}); check the file")
        return
    if kind:
        hint = "rename it to .pdf" if kind == "a PDF" else "give it the extension of what it is"
        raise DocumentError(f"{name} is {kind}, not {file_type}; {hint}")
    is_wide_unicode = (byte_order_mark_encoding(head) or "").startswith(("utf-16", "utf-32"))
    if b"\x00" in head and not is_wide_unicode:
        raise DocumentError(
            f"{name} looks binary (it contains NUL bytes); if it is UTF-16 text, save it as UTF-8"
        )


def check_size(name: str, size: int, max_bytes: int) -> None:
    """Raise DocumentError for an empty file or one over max_bytes."""
    if size == 0:
        raise DocumentError(f"{name} is empty; there is nothing to index")
    if size > max_bytes:
        raise DocumentError(
            f"{name} is {format_bytes(size)}, over the {format_bytes(max_bytes)} limit;"
            " split it or raise the file size limit"
        )
