"""OpenDocument text: headings, paragraphs, lists, tables and footnotes with stdlib XML."""

from __future__ import annotations

import pytest
from sample_files import odt_bytes, zip_bytes

from rag.errors import DocumentError
from rag.ingest.loaders import load_bytes


def test_fact_is_verbatim_under_its_heading_with_its_footnote() -> None:
    loaded = load_bytes("notes.odt", odt_bytes())
    fact = "The river rose  by two metres in April.[1]"
    assert fact in loaded.text
    assert loaded.location_at(loaded.text.index(fact)) == "section: Field notes"
    assert loaded.text.endswith("[1] Measured at the old bridge.")


def test_table_row_has_headers_and_repeated_empty_cells_vanish() -> None:
    text = load_bytes("notes.odt", odt_bytes()).text
    assert "station: Bridge; level_m: 4.2" in text.splitlines()
    assert "- Check the gauges" in text.splitlines()


def test_spreadsheet_renamed_to_odt_is_refused() -> None:
    data = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<a/>"})
    with pytest.raises(DocumentError, match="not a text document"):
        load_bytes("sheet.odt", data)


def test_malformed_content_gives_one_line() -> None:
    data = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:x"})
    with pytest.raises(DocumentError, match=r"malformed content\.xml") as caught:
        load_bytes("broken.odt", data)
    assert "\n" not in str(caught.value)


def test_billion_laughs_is_stopped_by_the_parser() -> None:
    entities = "".join(
        f'<!ENTITY e{n} "&e{n - 1};&e{n - 1};&e{n - 1};&e{n - 1};&e{n - 1};">' for n in range(1, 12)
    )
    bomb = f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e0 "ha">{entities}]><d>&e11;</d>'.encode()
    data = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": bomb})
    with pytest.raises(DocumentError, match=r"malformed content\.xml"):
        load_bytes("laughs.odt", data)
