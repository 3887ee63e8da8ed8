"""Tests for rag.ingest.loaders: one file on disk (or uploaded) in, stored text out."""

from __future__ import annotations

import codecs
import io
import logging
import random
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from sample_files import flate_bomb_pdf, make_pdf

from rag.errors import DocumentError
from rag.ingest.loaders import (
    DEFAULT_MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    check_content_matches_type,
    is_supported,
    load_bytes,
    load_file,
)


def encrypt_pdf(pdf: bytes, user_password: str) -> bytes:
    """Return `pdf` encrypted (RC4, no extra dependency) with the given user password."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, owner_password="owner")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- plain text and markdown -------------------------------------------------------------


def test_plain_text_is_stored_unchanged(tmp_path: Path) -> None:
    content = "  Line one   \r\nLine two\t\r\n\r\n\nLast line  \n\n"
    loaded = load_file(write(tmp_path, "notes.txt", content.encode()))
    assert loaded.text == content
    assert loaded.file_type == "text"
    assert loaded.title == "Line one"  # a short first line is the headline
    assert loaded.source == str(tmp_path / "notes.txt")
    assert loaded.page_starts == ()
    assert loaded.warnings == ()


def test_utf8_byte_order_mark_is_stripped(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "bom.txt", codecs.BOM_UTF8 + "héllo\n".encode()))
    assert loaded.text == "héllo\n"
    assert loaded.warnings == ()


def test_cp1252_text_is_decoded_with_a_warning(tmp_path: Path) -> None:
    content = "The café served crème brûlée; a naïve “quote” cost 5 €.\n"
    loaded = load_file(write(tmp_path, "legacy.txt", content.encode("cp1252")))
    assert loaded.text == content
    assert loaded.warnings == ("not valid UTF-8; decoded as cp1252",)


def test_short_latin1_text_still_decodes(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "short.txt", b"caf\xe9"))
    assert loaded.text == "café"
    assert len(loaded.warnings) == 1


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_byte_order_mark_are_decoded(tmp_path: Path, codec: str) -> None:
    content = "Grüße aus Köln\r\n第二行\n"
    data = content.encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    loaded = load_file(write(tmp_path, "wide.txt", data))
    assert loaded.text == content
    assert loaded.warnings == ()


def test_markdown_title_is_first_h1_outside_code_fences(tmp_path: Path) -> None:
    content = "Intro line\n```bash\n# not a title\n```\n## Sub\n# Real Title #\n\nBody\n"
    loaded = load_file(write(tmp_path, "guide.md", content.encode()))
    assert loaded.title == "Real Title"
    assert loaded.text == content
    assert loaded.file_type == "markdown"


def test_markdown_without_heading_is_titled_by_file_stem(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "release-notes.markdown", b"#hashtag is not a heading\n"))
    assert loaded.title == "release-notes"


# --- HTML ---------------------------------------------------------------------------------


def test_html_keeps_visible_text_with_block_line_breaks(tmp_path: Path) -> None:
    html = (
        "<html><head><title>  The\n  Guide </title></head><body>"
        "<h1>Heading</h1><p>First   paragraph\n  with <b>bold</b> text.</p>"
        "<ul><li>one</li><li>two</li></ul>line<br>break"
        "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"
        "</body></html>"
    )
    loaded = load_file(write(tmp_path, "page.html", html.encode()))
    assert loaded.title == "The Guide"
    assert loaded.file_type == "html"
    assert loaded.text == (
        "Heading\n\nFirst paragraph with bold text.\n\none\ntwo\n\nline\nbreak\n\na b\nc d"
    )


def test_html_drops_script_style_and_hidden_elements(tmp_path: Path) -> None:
    html = (
        "<body><script>var secret = 1;</script><style>p { color: red }</style>"
        "<noscript>enable js</noscript><template><p>tmpl</p></template>"
        "<svg><text>svg text</text></svg><!-- a comment -->"
        "<p>shown</p><p hidden>attr hidden</p><div aria-hidden='true'>aria</div>"
        "<div style='color: red; display : none'>css none</div>"
        "<span style='visibility:hidden'>css invisible</span><p>also shown</p></body>"
    )
    loaded = load_bytes("page.htm", html.encode())
    assert loaded.text == "shown\n\nalso shown"


def test_html_decodes_entities(tmp_path: Path) -> None:
    html = "<p>Fish &amp; chips&nbsp;&mdash; &lt;tasty&gt; &#8364;5 &eacute;</p>"
    assert load_bytes("menu.html", html.encode()).text == "Fish & chips — <tasty> €5 é"


def test_html_survives_unclosed_and_void_tags(tmp_path: Path) -> None:
    html = "<html><head><title>T</title><meta charset=utf-8><body><p>one<p>two<li>three<img src=x>four"
    loaded = load_bytes("broken.html", html.encode())
    assert loaded.title == "T"
    assert loaded.text == "one\n\ntwo\nthreefour"


def test_html_without_title_is_titled_by_file_stem(tmp_path: Path) -> None:
    assert load_bytes("index.html", b"<p>hello</p>").title == "index"


def test_html_meta_charset_is_respected(tmp_path: Path) -> None:
    html = '<meta charset="windows-1252"><p>café</p>'.encode("cp1252")
    loaded = load_bytes("legacy.html", html)
    assert loaded.text == "café"
    assert loaded.warnings == ()


def test_html_latin1_label_in_http_equiv_means_cp1252() -> None:
    html = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>5 € café</p>'
    loaded = load_bytes("legacy.html", html.encode("cp1252"))
    assert loaded.text == "5 € café"
    assert loaded.warnings == ()


def test_html_preformatted_lines_and_double_breaks_survive() -> None:
    html = "<pre>line 1\n  line 2</pre><p>a<br><br>b</p>"
    assert load_bytes("code.html", html.encode()).text == "line 1\nline 2\n\na\n\nb"


def test_html_deeply_nested_page_does_not_hit_recursion_limit() -> None:
    html = "<div>" * 5000 + "deep" + "</div>" * 5000
    assert load_bytes("deep.html", html.encode()).text == "deep"


def test_html_without_charset_falls_back_like_text(tmp_path: Path) -> None:
    html = "<p>The café served crème brûlée and a naïve résumé.</p>".encode("cp1252")
    loaded = load_bytes("legacy.html", html)
    assert loaded.text == "The café served crème brûlée and a naïve résumé."
    assert loaded.warnings == ("not valid UTF-8; decoded as cp1252",)


def test_html_with_only_invisible_content_is_rejected() -> None:
    with pytest.raises(DocumentError, match="no text"):
        load_bytes("blank.html", b"<html><head><title>T</title></head><body> </body></html>")


# --- PDF ----------------------------------------------------------------------------------


def test_pdf_pages_are_joined_and_page_starts_recorded(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "report.pdf", make_pdf("Page one text", "Page (two)")))
    assert loaded.file_type == "pdf"
    assert loaded.text == "Page one text\n\nPage (two)"
    assert loaded.page_starts == (0, len("Page one text\n\n"))
    assert loaded.text[loaded.page_starts[1] :] == "Page (two)"
    assert loaded.title == "report"


def test_pdf_blank_page_still_gets_a_page_start() -> None:
    loaded = load_bytes("gap.pdf", make_pdf("First", "", "Third"))
    assert loaded.text == "First\n\n\n\nThird"
    assert loaded.page_starts == (0, 7, 9)


def test_pdf_title_comes_from_metadata() -> None:
    assert load_bytes("r.pdf", make_pdf("x", title="Annual Report")).title == "Annual Report"


def test_pdf_encrypted_with_a_password_is_rejected() -> None:
    with pytest.raises(DocumentError, match="is encrypted; decrypt it first"):
        load_bytes("locked.pdf", encrypt_pdf(make_pdf("", ""), "secret"))


def test_pdf_encrypted_with_empty_user_password_is_read() -> None:
    loaded = load_bytes("open.pdf", encrypt_pdf(make_pdf("Readable"), ""))
    assert loaded.text == "Readable"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\nthis is not a pdf at all", make_pdf("Cut short")[:150]],
    ids=["garbage", "truncated"],
)
def test_corrupt_pdf_is_rejected_with_reason(data: bytes) -> None:
    with pytest.raises(DocumentError, match=r"broken\.pdf is not a readable PDF \(.+\)"):
        load_bytes("broken.pdf", data)


def test_pdf_flate_bomb_says_what_happened_not_scanned() -> None:
    with pytest.raises(DocumentError, match="content stream cannot be unpacked") as raised:
        load_bytes("bomb.pdf", flate_bomb_pdf(200))
    assert "OCR" not in str(raised.value)


def test_pdf_of_blank_pages_says_ocr_found_nothing() -> None:
    with pytest.raises(DocumentError, match=r"has no text layer and OCR found no text on its 2 pages"):
        load_bytes("scan.pdf", make_pdf("", ""))


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_pdf_repairs_become_warnings_not_console_noise() -> None:
    bad_xref_pointer = make_pdf("Still readable").replace(b"startxref\n", b"startxref\n9")
    recorder = _Recorder()
    logging.getLogger().addHandler(recorder)
    try:
        loaded = load_bytes("repaired.pdf", bad_xref_pointer)
    finally:
        logging.getLogger().removeHandler(recorder)
    assert loaded.text == "Still readable"
    assert any("startxref" in warning for warning in loaded.warnings)
    assert not [record for record in recorder.records if record.name.startswith("pypdf")]


# --- errors -------------------------------------------------------------------------------


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="is empty"):
        load_file(write(tmp_path, "empty.txt", b""))


def test_whitespace_only_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="only whitespace"):
        load_file(write(tmp_path, "blank.md", b" \r\n\t\n"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP archive"),
        (b"\x7fELF\x02\x01\x01\x00", "ELF executable"),
        (b"GIF89a\x01\x00", "GIF image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF.*rename it to .pdf"),
        (b"plain start\x00\x01\x02 then binary", "NUL bytes"),
    ],
    ids=["png", "zip", "elf", "gif", "jpeg", "pdf", "nul"],
)
def test_binary_file_renamed_txt_is_rejected(tmp_path: Path, data: bytes, expected: str) -> None:
    with pytest.raises(DocumentError, match=expected):
        load_file(write(tmp_path, "renamed.txt", data))


def test_file_over_the_size_limit_is_rejected_with_both_sizes(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", b"x" * 3000)
    with pytest.raises(DocumentError, match=r"is 2\.9 KB, over the 2\.0 KB limit"):
        load_file(path, max_bytes=2048)
    assert load_file(path, max_bytes=3000).text == "x" * 3000


def test_default_size_limit_is_50_megabytes() -> None:
    assert DEFAULT_MAX_FILE_BYTES == 50 * 1024 * 1024
    with pytest.raises(DocumentError, match=r"over the 50\.0 MB limit"):
        load_bytes("huge.txt", b"a" * (DEFAULT_MAX_FILE_BYTES + 1))


@pytest.mark.parametrize("name", ["slides.ppt", "Makefile", "archive.tar.gz"])
def test_unsupported_suffix_is_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(DocumentError, match=r"supported types are \.csv, \.docx, \.epub, \.htm, \.html"):
        load_file(write(tmp_path, name, b"text"))


def test_missing_file_and_directory_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="does not exist"):
        load_file(tmp_path / "missing.txt")
    (tmp_path / "folder.md").mkdir()
    with pytest.raises(DocumentError, match="is not a regular file"):
        load_file(tmp_path / "folder.md")


def test_is_supported_ignores_case() -> None:
    assert {
        ".txt",
        ".md",
        ".markdown",
        ".html",
        ".htm",
        ".pdf",
        ".docx",
        ".csv",
        ".png",
    } <= SUPPORTED_SUFFIXES
    assert is_supported(Path("REPORT.PDF"))
    assert is_supported(Path("a/b/notes.Md"))
    assert is_supported(Path("Budget.XLSX"))
    assert not is_supported(Path("photo.gif"))
    assert not is_supported(Path("README"))


def test_uppercase_suffix_loads(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "NOTES.TXT", b"hello")).file_type == "text"


# --- upload checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.txt", b"hello"),
        ("wide.txt", "hi".encode("utf-16")),
        ("page.html", b"<!doctype html><p>x</p>"),
        ("doc.md", b"# Title"),
        ("report.pdf", make_pdf("x")),
        ("deck.pptx", b"PK\x03\x04\x14\x00\x06\x00"),
        ("table.csv", b"a,b\n1,2\n"),
        ("photo.jpg", b"\x89PNG\r\n\x1a\n"),  # a misnamed picture is still a picture to read
        ("fax.tif", b"II*\x00\x08\x00"),
    ],
)
def test_check_content_matches_type_accepts_matching_content(name: str, data: bytes) -> None:
    check_content_matches_type(name, data)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("photo.txt", b"\x89PNG\r\n\x1a\n", "is a PNG image, not text"),
        ("page.html", b"\x7fELF\x02", "is an ELF executable, not html"),
        ("fake.pdf", b"just some text", r"is not a PDF \(no %PDF- header\)"),
        ("image.pdf", b"GIF89a...", "it looks like a GIF image"),
        ("empty.md", b"", "is empty"),
        ("tool.exe", b"MZ", "has type '.exe'"),
        ("report.docx", b"Dear team,", r"is not a Word document \(it is not a ZIP archive\); check it"),
        (
            "old.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            r"encrypted or pre-2007 Office file\); remove the password",
        ),
        ("book.epub", b"%PDF-1.7", r"is not an EPUB book \(it is a PDF\)"),
        ("data.csv", b"PK\x03\x04", "is a ZIP archive"),
        ("scan.png", b"<html>", "is not an image to read"),
    ],
)
def test_check_content_matches_type_rejects_mismatch(name: str, data: bytes, expected: str) -> None:
    with pytest.raises(DocumentError, match=expected):
        check_content_matches_type(name, data)


def test_load_bytes_takes_type_title_and_source_from_name() -> None:
    loaded = load_bytes("uploads/Meeting Notes.md", b"no heading\n")
    assert loaded.source == "uploads/Meeting Notes.md"
    assert loaded.title == "Meeting Notes"
    assert loaded.file_type == "markdown"
    assert loaded.text == "no heading\n"


def test_plain_text_with_long_first_line_is_titled_by_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "essay.txt"
    path.write_text("word " * 60 + "\nsecond line\n")
    assert load_file(path).title == "essay"


def test_utf8_with_one_bad_byte_stays_utf8_with_a_counted_warning(tmp_path: Path) -> None:
    content = "北京是中华人民共和国的首都，也是全国的政治和文化中心。" * 3
    data = content.encode() + b"\xff" + "第二段文字。".encode()
    loaded = load_file(write(tmp_path, "chinese.txt", data))
    assert loaded.text == content + "\ufffd" + "第二段文字。"
    assert loaded.warnings == ("1 invalid UTF-8 byte sequence replaced with \ufffd",)


def test_mostly_utf8_accents_with_a_stray_latin1_byte_keep_their_accents(tmp_path: Path) -> None:
    data = "Crème brûlée and café au lait. ".encode() * 2 + b"Price: 5\xa4.\n"
    loaded = load_file(write(tmp_path, "menu.txt", data))
    assert loaded.text.startswith("Crème brûlée and café au lait.") and "\ufffd" in loaded.text


def test_random_binary_without_nul_bytes_is_rejected(tmp_path: Path) -> None:
    noise = bytes(byte for byte in random.Random(7).randbytes(4000) if byte)
    with pytest.raises(DocumentError, match="looks binary"):
        load_file(write(tmp_path, "noise.txt", noise))


def test_an_html_data_table_is_written_row_by_row_with_its_headers_and_a_layout_table_is_not(
    tmp_path: Path,
) -> None:
    html = (
        "<body><table><caption>Staff</caption><tr><th>department</th><th>nurses</th></tr>"
        "<tr><td>Cardiology</td><td>42</td></tr><tr><td>Old <b>Town</b> clinic</td><td>7</td></tr></table>"
        "<table><tr><th>menu</th><th>main</th></tr><tr><td>Home</td><td><p>A long</p><p>story.</p></td></tr></table>"
        "<p>After.</p></body>"
    )
    loaded = load_file(write(tmp_path, "staff.html", html.encode()))
    assert loaded.text == (
        "Staff\ndepartment: Cardiology; nurses: 42\ndepartment: Old Town clinic; nurses: 7"
        "\n\nmenu main\nHome\n\nA long\n\nstory.\n\nAfter."
    )
