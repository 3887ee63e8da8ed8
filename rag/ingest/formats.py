"""Which parser reads each file type, and the text of a file by its type: the registry both the
loaders and the bounded child (sandbox.py) use, so neither needs the other."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from rag.errors import DocumentError
from rag.ingest.decoding import decode, looks_binary
from rag.settings import OcrSettings
from rag.types import LoadedFile

TITLE_MAX_CHARS = 120

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
OCR_TYPES = frozenset(_OCR_LOADERS)
# Every format with a parser of its own builds large structures, unpacks or decompresses: with
# limits, it is parsed in a bounded child process (sandbox.py). Plain text stays in-process.
BOUNDED_TYPES = frozenset(_LOADERS) | OCR_TYPES

_MARKDOWN_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_MARKDOWN_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")


def file_type_of(name: str) -> str:
    """The type of a file by its extension ("pdf", "markdown", ...); DocumentError if unsupported."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in _FILE_TYPES:
        described = f"type '{suffix}'" if suffix else "no file extension"
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise DocumentError(f"{name} has {described}; supported types are {supported}")
    return _FILE_TYPES[suffix]


def extract_text(name: str, data: bytes, ocr: OcrSettings | dict[str, Any] | None = None) -> LoadedFile:
    """The text of a file whose type and content were already checked (what a bounded child runs)."""
    kind = file_type_of(name)
    if kind in _OCR_LOADERS:
        settings = OcrSettings(**ocr) if isinstance(ocr, dict) else ocr or OcrSettings()
        return _loader(_OCR_LOADERS[kind])(name, data, settings)
    if kind in _LOADERS:
        return _loader(_LOADERS[kind])(name, data)
    text, warnings = decode(data, None)
    if looks_binary(text):
        raise DocumentError(
            f"{name} looks binary (it is full of control characters); convert it to text first"
        )
    title = _markdown_title(text) if kind == "markdown" else _first_line_title(text)
    if not text.strip():
        raise DocumentError(f"{name} has no text to index (only whitespace or markup)")
    return LoadedFile(name, title or PurePath(name).stem, text, (), kind, warnings)


def parser_modules() -> list[str]:
    """The modules holding a format's parser (the bounded child's helper imports them all first)."""
    return sorted({target.split(":")[0] for target in [*_LOADERS.values(), *_OCR_LOADERS.values()]})


def _loader(target: str) -> Callable[..., LoadedFile]:
    module, function = target.split(":")
    loader: Callable[..., LoadedFile] = getattr(importlib.import_module(module), function)
    return loader


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
