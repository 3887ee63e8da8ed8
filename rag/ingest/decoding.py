"""Bytes to text: byte-order marks, a declared charset, UTF-8, then a detected legacy encoding."""

from __future__ import annotations

import codecs
import re
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


# A well-formed multi-byte UTF-8 sequence: rare by accident in a legacy (cp1252...) file.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_REPLACEMENT_BYTES = "\ufffd".encode()
# Control characters that text files do not contain (tab, line and page breaks excluded).
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")
BINARY_CONTROL_SHARE = 0.05


def byte_order_mark_encoding(data: bytes) -> str | None:
    """The codec a byte-order mark at the start of data names, if any."""
    return next((codec for mark, codec in _BYTE_ORDER_MARKS if data.startswith(mark)), None)


def decode(data: bytes, declared: str | None) -> tuple[str, tuple[str, ...]]:
    """The text of the bytes and a warning when they are not in the encoding they should be."""
    expected = byte_order_mark_encoding(data) or declared or "utf-8"
    if expected in ("utf-8", "utf-8-sig"):
        mostly_utf8 = _mostly_utf8(data, expected)
        if mostly_utf8 is not None:
            return mostly_utf8
    for codec in _candidate_codecs(data, expected):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if codec == expected:
            return text, ()
        return text, (f"not valid {_codec_label(expected)}; decoded as {codec}",)
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _mostly_utf8(data: bytes, codec: str) -> tuple[str, tuple[str, ...]] | None:
    """UTF-8 text with a few bad bytes replaced (and a warning counting them); None when the
    bad bytes outnumber the good multi-byte sequences, so the file is in another encoding."""
    try:
        return data.decode(codec), ()
    except UnicodeDecodeError:
        pass
    text = data.decode(codec, errors="replace")
    replaced = text.count("\ufffd") - data.count(_REPLACEMENT_BYTES)
    if len(_UTF8_SEQUENCE.findall(data)) <= replaced:
        return None
    noun = "sequence" if replaced == 1 else "sequences"
    return text, (f"{replaced} invalid UTF-8 byte {noun} replaced with \ufffd",)


def looks_binary(text: str) -> bool:
    """True when the text holds more control characters than any text file would."""
    return len(_CONTROL.findall(text)) > BINARY_CONTROL_SHARE * max(len(text), 20)


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
