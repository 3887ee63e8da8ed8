"""EPUB books: chapters in spine order, visible text only."""

from __future__ import annotations

import pytest
from sample_files import epub_bytes, zip_bytes

from rag.errors import DocumentError
from rag.ingest.loaders import load_bytes


def test_chapters_follow_the_spine_and_are_locations() -> None:
    loaded = load_bytes("lab.epub", epub_bytes())
    assert loaded.text.index("The lab opened in 1998.") < loaded.text.index(
        "By 2010 the lab had forty staff."
    )
    assert loaded.location_at(loaded.text.index("By 2010")) == "chapter 2: Growth"
    assert loaded.title == "The Lab Book"


def test_styles_and_head_are_not_text() -> None:
    assert "color" not in load_bytes("lab.epub", epub_bytes()).text


def test_drm_protected_book_is_refused() -> None:
    with pytest.raises(DocumentError, match="DRM-protected"):
        load_bytes("lab.epub", epub_bytes(encrypted=True))


def test_zip_without_container_is_not_an_epub() -> None:
    with pytest.raises(DocumentError, match=r"not an EPUB book \(no META-INF/container\.xml inside\)"):
        load_bytes("book.epub", zip_bytes({"mimetype": b"application/epub+zip"}))


def test_malformed_package_document_gives_one_line() -> None:
    container = (
        b'<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        b'<rootfile full-path="content.opf"/></rootfiles></container>'
    )
    data = zip_bytes({"META-INF/container.xml": container, "content.opf": b"<package><unclosed>"})
    with pytest.raises(DocumentError, match=r"has a malformed content\.opf") as caught:
        load_bytes("book.epub", data)
    assert "\n" not in str(caught.value)
