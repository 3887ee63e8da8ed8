"""Builders of small real files of every format the loaders read, shared by the tests."""

from __future__ import annotations

import datetime
import io
import zipfile
import zlib

import docx
import openpyxl
import pptx
from docx.oxml import parse_xml
from PIL import Image, ImageDraw, ImageFont
from pptx.util import Inches

from eval.highlight_accuracy import pdf_of_objects

W_NAMESPACE = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_XML = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:footnotes xmlns:w="{W_NAMESPACE}">
<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>
<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>
<w:footnote w:id="1"><w:p><w:r><w:t>The audit was done by Example Partners LLP.</w:t></w:r></w:p></w:footnote>
</w:footnotes>"""
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def docx_bytes() -> bytes:
    """A Word file with a title, headings, paragraphs, both list kinds, a table and a footnote."""
    document = docx.Document()
    document.core_properties.title = "Annual report"
    document.add_heading("Annual report", level=0)
    document.add_heading("Budget", level=1)
    paragraph = document.add_paragraph("The research budget for 2025 is 1250000 euros.")
    paragraph.add_run()._r.append(parse_xml(f'<w:footnoteReference xmlns:w="{W_NAMESPACE}" w:id="1"/>'))
    document.add_paragraph("Keep receipts", style="List Bullet")
    document.add_paragraph("File the claim", style="List Number")
    document.add_paragraph("Wait for approval", style="List Number")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(
        table.rows,
        [("department", "year", "budget_eur"), ("Research", "2025", "1250000"), ("Sales", "2025", "830000")],
        strict=True,
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("Staff", level=1)
    document.add_paragraph("The team has twelve engineers.")
    buffer = io.BytesIO()
    document.save(buffer)
    return _with_footnotes(buffer.getvalue())


def _with_footnotes(data: bytes) -> bytes:
    """Add a footnotes part, which python-docx cannot write, to a saved .docx."""
    source = zipfile.ZipFile(io.BytesIO(data))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.wordprocessingml.footnotes+xml"/></Types>',
                )
            elif item.filename == "word/_rels/document.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdFootnotes" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/footnotes" Target="footnotes.xml"/></Relationships>',
                )
            target.writestr(item, content)
        target.writestr("word/footnotes.xml", FOOTNOTES_XML)
    return output.getvalue()


def pptx_bytes() -> bytes:
    """Three slides: a title slide, a slide with a text box, a table and notes, and a picture-free closing."""
    presentation = pptx.Presentation()
    first = presentation.slides.add_slide(presentation.slide_layouts[0])
    first.shapes.title.text = "Quarterly review"
    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "Budget"
    box = second.shapes.add_textbox(Inches(1), Inches(1.5), Inches(6), Inches(1))
    box.text_frame.text = "Research spending rose by 14 percent."
    table = second.shapes.add_table(2, 2, Inches(1), Inches(3), Inches(6), Inches(1)).table
    for row, values in enumerate([("department", "budget_eur"), ("Research", "1250000")]):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    second.notes_slide.notes_text_frame.text = "Mention the new lab in Leipzig."
    third = presentation.slides.add_slide(presentation.slide_layouts[1])
    third.shapes.title.text = "Next steps"
    third.placeholders[1].text = "Hire two data engineers."
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    """A workbook with a budget sheet (numbers, a date) and a staff sheet with a blank row."""
    workbook = openpyxl.Workbook()
    budget = workbook.active
    budget.title = "Budget"
    budget.append(["department", "year", "budget_eur", "approved"])
    budget.append(["Sales", 2025, 830000.0, None])
    budget.append(["Research", 2025, 1250000, datetime.datetime(2025, 3, 3)])
    staff = workbook.create_sheet("Staff")
    staff.append(["name", "role"])
    staff.append([])
    staff.append(["Ada", "engineer"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def epub_bytes(encrypted: bool = False) -> bytes:
    """A two-chapter EPUB 3 whose spine order differs from its manifest order."""
    chapter = """<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">
<head><title>{title}</title><style>p {{ color: red }}</style></head><body><h1>{title}</h1><p>{text}</p></body></html>"""
    package = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Lab Book</dc:title></metadata>
<manifest><item id="two" href="text/two.xhtml" media-type="application/xhtml+xml"/>
<item id="one" href="text/one.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="one"/><itemref idref="two"/></spine></package>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        archive.writestr("OEBPS/content.opf", package)
        archive.writestr(
            "OEBPS/text/one.xhtml", chapter.format(title="Beginnings", text="The lab opened in 1998.")
        )
        archive.writestr(
            "OEBPS/text/two.xhtml", chapter.format(title="Growth", text="By 2010 the lab had forty staff.")
        )
        if encrypted:
            archive.writestr(
                "META-INF/encryption.xml",
                '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
                'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
                '<enc:CipherReference URI="OEBPS/text/one.xhtml"/></enc:CipherData></enc:EncryptedData></encryption>',
            )
    return buffer.getvalue()


def odt_bytes() -> bytes:
    """An OpenDocument text with a heading, a paragraph with a footnote, a list and a table."""
    content = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 office:version="1.3"><office:body><office:text>
<text:h text:outline-level="1">Field notes</text:h>
<text:p>The river rose<text:s text:c="2"/>by two metres in <text:span>April</text:span>.<text:note text:note-class="footnote">
<text:note-citation>1</text:note-citation><text:note-body><text:p>Measured at the old bridge.</text:p></text:note-body>
</text:note></text:p>
<text:list><text:list-item><text:p>Check the gauges</text:p></text:list-item></text:list>
<table:table><table:table-row><table:table-cell><text:p>station</text:p></table:table-cell>
<table:table-cell><text:p>level_m</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell><text:p>Bridge</text:p></table:table-cell>
<table:table-cell><text:p>4.2</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1000"/>
</table:table-row></table:table>
</office:text></office:body></office:document-content>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", content)
    return buffer.getvalue()


def page_image(lines: list[str], size: tuple[int, int] = (2480, 1200)) -> Image.Image:
    """A white page with the lines drawn in black at a size tesseract reads well."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_PATH, 48)
    for index, line in enumerate(lines):
        draw.text((150, 150 + index * 90), line, fill=0, font=font)
    return image


def scanned_pdf_bytes(pages: list[list[str]]) -> bytes:
    """A PDF with no text layer: each page is an image of rendered text, saved by PIL."""
    images = [page_image(lines) for lines in pages]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=300, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A ZIP archive holding the given members, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def png_bytes(lines: list[str]) -> bytes:
    """A PNG picture of the lines, as a phone snapshot of a page would be."""
    buffer = io.BytesIO()
    page_image(lines).save(buffer, "PNG")
    return buffer.getvalue()


def make_pdf(*page_texts: str, title: str | None = None) -> bytes:
    """Build a small valid PDF with one Helvetica text line per page ("" = blank page)."""
    count = len(page_texts)
    kids = " ".join(f"{4 + 2 * index} 0 R" for index in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for index, text in enumerate(page_texts):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1") if text else b""
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            f" /Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * index} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    info = ""
    if title is not None:
        objects.append(f"<< /Title ({title}) >>".encode("latin-1"))
        info = f" /Info {len(objects)} 0 R"
    return pdf_of_objects(objects, info)


# The standard fonts every PDF reader has, by resource name.
STANDARD_FONTS = {"F1": "Helvetica", "F2": "Times-Roman", "F3": "Courier"}


def positioned_pdf(
    pages: list[list[tuple[float, float, str, str]]],
    size: tuple[float, float] = (612, 792),
    rotate: int = 0,
    font_size: float = 12,
) -> bytes:
    """A PDF whose pages hold lines at known places: (x, y from the bottom, font F1-F3, text)."""
    count = len(pages)
    kids = " ".join(f"{3 + len(STANDARD_FONTS) + 2 * index} 0 R" for index in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
    ]
    fonts = ""
    for number, (name, base_font) in enumerate(STANDARD_FONTS.items(), start=3):
        objects.append(
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{base_font} /Encoding /WinAnsiEncoding >>".encode()
        )
        fonts += f" /{name} {number} 0 R"
    for lines in pages:
        stream = b"".join(
            f"BT /{font} {font_size:g} Tf {x:g} {y:g} Td ({_escaped(text)}) Tj ET\n".encode("latin-1")
            for x, y, font, text in lines
        )
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {size[0]:g} {size[1]:g}] /Rotate {rotate}"
            f" /Resources << /Font <<{fonts} >> >> /Contents {len(objects) + 2} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    return pdf_of_objects(objects)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def flate_bomb_pdf(megabytes: int = 200) -> bytes:
    """A one-page PDF whose content stream inflates from about 200 KB to `megabytes` MB of spaces."""
    compressor = zlib.compressobj(9)
    block = b" " * (1 << 20)
    body = b"".join(compressor.compress(block) for _ in range(megabytes)) + compressor.flush()
    return pdf_of_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(body), body),
        ]
    )
