"""OCR: scanned PDFs and images read through tesseract, with page numbers, confidences and limits."""

from __future__ import annotations

import io
import shutil

import pytest
from sample_files import make_pdf, page_image, scanned_pdf_bytes

from rag.errors import DocumentError, SettingsError
from rag.ingest import ocr
from rag.ingest.ocr import load_image
from rag.ingest.pdf import load_pdf
from rag.settings import OcrSettings, Settings

pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="needs tesseract-ocr (make install installs it)"
)
FACT = "The research budget for 2025 is 1250000 euros."


@pytest.fixture(scope="module")
def scanned_pdf() -> bytes:
    """Two image-only pages; the fact is on page 2."""
    return scanned_pdf_bytes([["Quarterly report of the lab."], ["Budget", FACT]])


def test_scanned_pdf_is_read_through_ocr_with_its_page(scanned_pdf: bytes) -> None:
    loaded = load_pdf("scan.pdf", scanned_pdf, OcrSettings())
    assert FACT in loaded.text
    offset = loaded.text.index(FACT)
    assert sum(1 for start in loaded.page_starts if start <= offset) == 2
    assert loaded.location_at(offset) == "page 2 (OCR)"


def test_ocr_pages_and_their_confidence_are_reported(scanned_pdf: bytes) -> None:
    loaded = load_pdf("scan.pdf", scanned_pdf, OcrSettings())
    assert loaded.metadata["ocr"]["pages"] == [1, 2]
    assert all(confidence > 85 for confidence in loaded.metadata["ocr"]["confidence"])
    assert loaded.warnings == ()


def test_png_and_multi_page_tiff_are_read() -> None:
    buffer = io.BytesIO()
    page_image([FACT]).save(buffer, "PNG")
    assert FACT in load_image("scan.png", buffer.getvalue(), OcrSettings()).text
    buffer = io.BytesIO()
    page_image(["First page of the fax."]).save(
        buffer, "TIFF", save_all=True, append_images=[page_image([FACT])], compression="tiff_lzw"
    )
    loaded = load_image("fax.tiff", buffer.getvalue(), OcrSettings())
    assert loaded.location_at(loaded.text.index(FACT)) == "page 2 (OCR)"


def test_low_confidence_page_is_a_warning() -> None:
    shrunk = page_image(["Quarterly budget report of the research lab"] * 8).resize((400, 190))
    buffer = io.BytesIO()
    shrunk.save(buffer, "PNG")
    loaded = load_image("shrunk.png", buffer.getvalue(), OcrSettings())
    confidence = loaded.metadata["ocr"]["confidence"][0]
    assert confidence < OcrSettings().min_confidence
    (warning,) = loaded.warnings
    assert warning.startswith("page 1: OCR confidence ")
    assert warning.endswith("/100 is under 70; check quotes from it against the original")


def test_page_over_the_time_limit_is_stopped(scanned_pdf: bytes) -> None:
    with pytest.raises(
        DocumentError, match=r"OCR found no text on its 2 pages \(OCR took over 0.001 s and was stopped\)"
    ):
        load_pdf("scan.pdf", scanned_pdf, OcrSettings(page_timeout_seconds=0.001))


def test_missing_language_pack_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_OCR_LANGS", "eng+klingon")
    with pytest.raises(DocumentError, match="apt-get install tesseract-ocr-klingon"):
        load_image("scan.png", b"unused", Settings.from_env().ocr)


def test_malformed_language_setting_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_OCR_LANGS", "eng; rm -rf")
    with pytest.raises(SettingsError, match="RAG_OCR_LANGS"):
        Settings.from_env()


def test_missing_tesseract_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    ocr.installed_languages.cache_clear()
    monkeypatch.setattr(ocr.shutil, "which", lambda _: None)
    try:
        with pytest.raises(DocumentError, match="apt-get install tesseract-ocr"):
            load_image("scan.png", b"unused", OcrSettings())
    finally:
        ocr.installed_languages.cache_clear()


def test_file_that_is_not_an_image_gives_one_line() -> None:
    with pytest.raises(DocumentError, match="is not a readable image") as caught:
        load_image("scan.png", b"<html>not a picture</html>", OcrSettings())
    assert "\n" not in str(caught.value)


def test_oversized_image_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "MAX_PAGE_PIXELS", 1000)
    buffer = io.BytesIO()
    page_image(["x"]).save(buffer, "PNG")
    with pytest.raises(DocumentError, match="over the 1,000 OCR limit"):
        load_image("huge.png", buffer.getvalue(), OcrSettings())


def test_garbage_named_pdf_gives_one_line() -> None:
    with pytest.raises(DocumentError, match="is not a readable PDF") as caught:
        load_pdf("scan.pdf", b"%PDF-1.4 garbage", OcrSettings())
    assert "\n" not in str(caught.value)


def test_text_pages_are_kept_when_ocr_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    ocr.installed_languages.cache_clear()
    monkeypatch.setattr(ocr.shutil, "which", lambda _: None)
    try:
        loaded = load_pdf("mixed.pdf", make_pdf("Readable page", ""), OcrSettings())
    finally:
        ocr.installed_languages.cache_clear()
    assert loaded.text.startswith("Readable page")
    assert loaded.locations == () and loaded.metadata == {}
    assert loaded.warnings == (
        "pages without a text layer were not read: OCR needs tesseract; install it with: apt-get install tesseract-ocr",
    )
