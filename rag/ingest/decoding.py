"""Bytes to text: byte-order marks, a declared charset, UTF-8, then a detected legacy encoding."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import charset_normalizer

_BYTE_ORDER_MARKS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian mark begins with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def byte_order_mark_encoding(data: bytes) -> str | None:
    return next((codec for mark, codec in _BYTE_ORDER_MARKS if data.startswith(mark)), None)


def decode(data: bytes, declared: str | None) -> tuple[str, tuple[str, ...]]:
    """The text of the bytes and a warning when they are not in the encoding they should be."""
    expected = byte_order_mark_encoding(data) or declared or "utf-8"
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
