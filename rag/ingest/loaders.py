"""Turn one file into the text that gets indexed: check its content against its extension, then
hand it to the loader of its format family."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path, PurePath
from typing import Any

from rag.display import format_bytes
from rag.errors import DocumentError
from rag.ingest.archive import CONTAINERS, binary_kind, check_zip_signature
from rag.ingest.decoding import byte_order_mark_encoding, decode, looks_binary
from rag.ingest.sandbox import ParseLimits, run_bounded
from rag.settings import OcrSettings
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
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".odt": "odt",
    ".epub": "epub",
    ".csv": "csv",
    ".tsv": "tsv",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_FILE_TYPES)
# file type -> "module:function" taking (name, data); imported on first use, so `import rag` and
# listing the supported types stay light. Each is a plain function of the file's bytes.
_LOADERS: dict[str, str] = {
    "html": "rag.ingest.html:load_html",
    "docx": "rag.ingest.word:load_docx",
    "pptx": "rag.ingest.slides:load_pptx",
    "xlsx": "rag.ingest.sheets:load_xlsx",
    "csv": "rag.ingest.sheets:load_delimited_file",
    "tsv": "rag.ingest.sheets:load_delimited_file",
    "odt": "rag.ingest.odt:load_odt",
    "epub": "rag.ingest.epub:load_epub",
}
# These also take the OcrSettings, for scanned pages and pictures.
_OCR_LOADERS: dict[str, str] = {
    "pdf": "rag.ingest.pdf:load_pdf",
    "image": "rag.ingest.ocr:load_image",
}
# Every format with a parser of its own builds large structures, unpacks or decompresses: with
# limits, it is parsed in a bounded child process (sandbox.py). Plain text stays in-process.
BOUNDED_TYPES = frozenset(_LOADERS) | frozenset(_OCR_LOADERS)
# A .jpg that is really a PNG is still a picture to read: any of the formats will do.
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")

_SNIFF_BYTES = 8192
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
    file_type = _file_type(name)
    check_size(name, len(data), max_bytes)
    check_content_matches_type(name, data)
    if limits is not None and file_type in BOUNDED_TYPES:
        options = {"ocr": asdict(ocr or OcrSettings())} if file_type in _OCR_LOADERS else {}
        return run_bounded(extract_text, name, data, limits, options)
    return extract_text(name, data, ocr)


def extract_text(name: str, data: bytes, ocr: OcrSettings | dict[str, Any] | None = None) -> LoadedFile:
    """The text of a file whose type and content were already checked (what a bounded child runs)."""
    file_type = _file_type(name)
    if file_type in _OCR_LOADERS:
        settings = OcrSettings(**ocr) if isinstance(ocr, dict) else ocr or OcrSettings()
        return _loader(_OCR_LOADERS[file_type])(name, data, settings)
    if file_type in _LOADERS:
        return _loader(_LOADERS[file_type])(name, data)
    text, warnings = decode(data, None)
    if looks_binary(text):
        raise DocumentError(
            f"{name} looks binary (it is full of control characters); convert it to text first"
        )
    title = _markdown_title(text) if file_type == "markdown" else _first_line_title(text)
    _require_text(name, text)
    return LoadedFile(name, title or PurePath(name).stem, text, (), file_type, warnings)


def parser_modules() -> list[str]:
    """The modules holding a format's parser (the bounded child's helper imports them all first)."""
    return sorted({target.split(":")[0] for target in [*_LOADERS.values(), *_OCR_LOADERS.values()]})


def _loader(target: str) -> Callable[..., LoadedFile]:
    module, function = target.split(":")
    loader: Callable[..., LoadedFile] = getattr(importlib.import_module(module), function)
    return loader


def check_content_matches_type(name: str, data: bytes) -> None:
    """Raise DocumentError if the bytes (the whole file or its start) are not what the extension claims."""
    file_type = _file_type(name)
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
