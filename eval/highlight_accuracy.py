"""python -m eval.highlight_accuracy: how exactly a quote's highlight covers its glyphs.

Writes PDFs whose every glyph box is known from the file itself (fonts with declared widths,
ascent and descent; each line placed by its text matrix): three fonts, a two-column page, a page
shown turned 90 degrees, words set with the fi and fl ligature glyphs, and justified, kerned
lines. Ingests them (the hashing embedder: no model), takes quotes (a sentence inside a line of
a column, a sentence across a line break), and compares the union of
KnowledgeBase.highlight_boxes with the known boxes of the quoted characters and of every other
character, on a grid of 8 cells per point:

- coverage: share of the quoted glyphs' area under the highlight (goal >= 0.98);
- spill: share of the other glyphs' area under it (goal <= 0.05), and that same area as a
  share of the quoted glyphs' area (spill/quote, the stricter reading).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rag

ASCENT, DESCENT = 800, -200  # declared in every font's descriptor, thousandths of the size
CELLS_PER_POINT = 8
Box = tuple[float, float, float, float]  # left, top, right, bottom: fractions of the shown page

# Ligature glyph codes of the serif font (its encoding's Differences) and what they stand for.
LIGATURES = {"fi": 0xAE, "fl": 0xAF}


@dataclass(frozen=True)
class Font:
    name: str  # resource name
    base: str  # standard font it is drawn with
    widths: dict[int, int]  # code -> advance in thousandths of the size
    ligatures: bool = False


def _widths(narrow: int, wide: int, capital: int, other: int, space: int) -> dict[int, int]:
    table = {}
    for code in range(32, 256):
        character = bytes([code]).decode("latin-1")
        if character in "iljtf.,;:'!|()-":
            table[code] = narrow
        elif character in "mwMW":
            table[code] = wide
        elif character.isupper():
            table[code] = capital
        else:
            table[code] = other
    table[32] = space
    return table


FONTS = {
    "F1": Font("F1", "Helvetica", _widths(278, 833, 667, 556, 278)),
    "F2": Font("F2", "Times-Roman", {**_widths(278, 722, 667, 500, 250), 0xAE: 556, 0xAF: 556}, True),
    "F3": Font("F3", "Courier", dict.fromkeys(range(32, 256), 600)),
}


@dataclass(frozen=True)
class Line:
    x: float  # where the baseline starts, in page space (points, from the bottom left)
    y: float
    font: str
    text: str
    size: float = 11
    word_spacing: float = 0  # Tw: points added after each space, as a justified line has
    char_spacing: float = 0  # Tc: points added after each glyph
    kerned: bool = False  # set with a TJ array that moves the pairs of KERNING closer


# Kerning of the kerned lines: thousandths of the size the second glyph moves back.
KERNING = {"Te": 70, "To": 80, "Wa": 60, "Ve": 60, "Yo": 90, "AV": 70}


@dataclass(frozen=True)
class Case:
    name: str
    lines: tuple[Line, ...]
    quotes: tuple[tuple[str, tuple[tuple[int, int, int], ...]], ...]  # (label, (line, start, end)...)
    rotate: int = 0  # /Rotate of the page; its text is drawn turned back so it reads upright
    size: tuple[float, float] = (612, 792)


def _codes(font: Font, text: str) -> list[tuple[int, str]]:
    """The glyph codes a line is set with, each with the characters it stands for."""
    codes = []
    position = 0
    while position < len(text):
        pair = text[position : position + 2]
        if font.ligatures and pair in LIGATURES:
            codes.append((LIGATURES[pair], pair))
            position += 2
        else:
            codes.append((ord(text[position]), text[position]))
            position += 1
    return codes


def glyph_boxes(case: Case) -> list[list[Box | None]]:
    """Each line's characters' boxes on the shown page (None for a space); a ligature's characters
    share its glyph's width equally."""
    width, height = case.size
    result = []
    for line in case.lines:
        font = FONTS[line.font]
        boxes: list[Box | None] = []
        advance = 0.0
        codes = _codes(font, line.text)
        for number, (code, characters) in enumerate(codes):
            glyph = font.widths[code] * line.size / 1000
            share = glyph / len(characters)
            for index, character in enumerate(characters):
                start = advance + index * share
                # Along the line (u) and across it (v), in points from the line's origin.
                u0, u1 = start, start + share
                v0, v1 = DESCENT * line.size / 1000, ASCENT * line.size / 1000
                boxes.append(
                    None if character == " " else _shown(case, line, (u0, v0, u1, v1), width, height)
                )
            advance += glyph + line.char_spacing + (line.word_spacing if code == 32 else 0)
            advance -= _kern(line, codes, number) * line.size / 1000
        result.append(boxes)
    return result


def _kern(line: Line, codes: Sequence[tuple[int, str]], number: int) -> int:
    """How far (thousandths of the size) the glyph after codes[number] moves back."""
    if not line.kerned or number + 1 >= len(codes):
        return 0
    return KERNING.get(codes[number][1][-1] + codes[number + 1][1][0], 0)


def _shown(
    case: Case, line: Line, box: tuple[float, float, float, float], width: float, height: float
) -> Box:
    u0, v0, u1, v1 = box
    if case.rotate == 90:
        # Drawn turned a quarter counterclockwise (text matrix 0 1 -1 0): u runs up the page, v to
        # the left. The page is shown turned clockwise: page y becomes shown x, page x shown y.
        left, right = line.x - v1, line.x - v0
        bottom, top = line.y + u0, line.y + u1
        return bottom / height, left / width, top / height, right / width
    left, right = line.x + u0, line.x + u1
    bottom, top = line.y + v0, line.y + v1
    return left / width, (height - top) / height, right / width, (height - bottom) / height


def pdf_bytes(case: Case) -> bytes:
    """The case's one-page PDF."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b""]
    fonts = ""
    for font in FONTS.values():
        fonts += f" /{font.name} {len(objects) + 1} 0 R"
        widths = " ".join(str(font.widths.get(code, 0)) for code in range(32, 256))
        descriptor, unicode_map = len(objects) + 2, len(objects) + 3
        encoding = "/WinAnsiEncoding"
        extra = ""
        if font.ligatures:
            encoding = "<< /BaseEncoding /WinAnsiEncoding /Differences [174 /fi /fl] >>"
            extra = f" /ToUnicode {unicode_map} 0 R"
        objects.append(
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{font.base} /Encoding {encoding} /FirstChar 32"
            f" /LastChar 255 /Widths [{widths}] /FontDescriptor {descriptor} 0 R{extra} >>".encode()
        )
        objects.append(
            f"<< /Type /FontDescriptor /FontName /{font.base} /Flags 32 /FontBBox [-200 {DESCENT} 1000"
            f" {ASCENT}] /ItalicAngle 0 /Ascent {ASCENT} /Descent {DESCENT} /CapHeight 700 /StemV 80 >>".encode()
        )
        objects.append(_stream(_to_unicode().encode()))
    content = []
    for line in case.lines:
        font = FONTS[line.font]
        matrix = f"0 1 -1 0 {line.x:g} {line.y:g}" if case.rotate == 90 else f"1 0 0 1 {line.x:g} {line.y:g}"
        codes = _codes(font, line.text)
        shown = "".join(
            f"<{code:02X}>" + (f" {_kern(line, codes, number)} " if _kern(line, codes, number) else "")
            for number, (code, _) in enumerate(codes)
        )
        content.append(
            f"BT /{font.name} {line.size:g} Tf {line.char_spacing:g} Tc {line.word_spacing:g} Tw"
            f" {matrix} Tm [{shown}] TJ ET"
        )
    objects[2] = (
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {case.size[0]:g} {case.size[1]:g}] /Rotate {case.rotate}"
        f" /Resources << /Font <<{fonts} >> >> /Contents {len(objects) + 1} 0 R >>".encode()
    )
    objects.append(_stream(zlib.compress("\n".join(content).encode()), b" /Filter /FlateDecode"))
    return pdf_of_objects(objects)


def pdf_of_objects(objects: list[bytes], info: str = "") -> bytes:
    """A PDF file of numbered objects (1 is the catalog) with its cross-reference table
    (tests/sample_files.py builds its PDFs with it too)."""
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n".encode()
    pdf += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(pdf)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def _to_unicode() -> str:
    """A CMap giving each byte its WinAnsi character, and the two ligature codes two each."""
    pairs = [
        f"<{code:02X}> <{ord(bytes([code]).decode('cp1252', errors='replace')):04X}>"
        for code in range(32, 127)
    ] + [f"<{code:02X}> <{''.join(f'{ord(c):04X}' for c in pair)}>" for pair, code in LIGATURES.items()]
    return (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Ligatures def"
        " /CMapType 2 def 1 begincodespacerange <00> <FF> endcodespacerange\n"
        f"{len(pairs)} beginbfchar\n" + "\n".join(pairs) + "\nendbfchar endcmap"
        " CMapName currentdict /CMap defineresource pop end end"
    )


def _column(x: float, top: float, font: str, lines: Sequence[str], leading: float = 15) -> tuple[Line, ...]:
    return tuple(Line(x, top - index * leading, font, text) for index, text in enumerate(lines))


def _turned_column(
    x: float, y: float, font: str, lines: Sequence[str], leading: float = 15
) -> tuple[Line, ...]:
    """Lines drawn running up the page, each next one to the right of the last (read on a page
    shown turned clockwise, they run left to right, top to bottom)."""
    return tuple(Line(x + index * leading, y, font, text) for index, text in enumerate(lines))


LEFT = [
    "The north bridge was repainted in",
    "October with a zinc-rich primer.",
    "Inspectors found no rust on the",
    "lower girders. The deck was resurfaced",
    "in spring and reopened in June.",
]
RIGHT = [
    "Ferries run hourly. The timetable",
    "changes in May, when the summer",
    "service adds two crossings. Fares",
    "stay the same for commuters.",
]
KERNED_LINES = [
    "To Yolanda the AVON Water tests were late.",
    "Tests at Wade Vale were done. Tomorrow the",
    "Yorkshire team writes the report.",
]
LIGATURE_LINES = [
    "The office moved its workflow to the",
    "new floor. Staff find the offices quiet",
    "and the airflow steady. Visitors sign in.",
]


def cases() -> list[Case]:
    """The pages measured, each with its quotes as (line, start, end) pieces of its lines."""

    def piece(lines: Sequence[str], line: int, text: str, *, offset: int = 0) -> tuple[int, int, int]:
        start = lines[line].index(text)
        return (line + offset, start, start + len(text))

    one_column = _column(72, 700, "F1", LEFT) + _column(72, 600, "F3", RIGHT)
    two_columns = _column(72, 700, "F1", LEFT, 14) + _column(330, 700, "F2", RIGHT, 14)
    rotated = _turned_column(72, 72, "F2", LEFT) + _turned_column(72, 400, "F1", RIGHT)
    ligatures = _column(72, 700, "F2", LIGATURE_LINES)
    spaced = tuple(
        Line(72, 700 - 15 * index, "F1", text, word_spacing=spacing, char_spacing=0.3, kerned=True)
        for index, (text, spacing) in enumerate(zip(KERNED_LINES, (4.1, 2.6, 0), strict=True))
    )
    right = len(LEFT)
    # Each page ends with a line of its own: pages with the same text would be one document.
    one_column += (Line(72, 500, "F1", "First page of the highlight test."),)
    two_columns += (Line(72, 500, "F1", "Second page of the highlight test."),)
    rotated += (Line(300, 72, "F1", "Third page of the highlight test."),)
    ligatures += (Line(72, 500, "F1", "Fourth page of the highlight test."),)
    spaced += (Line(72, 500, "F1", "Fifth page of the highlight test."),)
    return [
        Case(
            "one column, Helvetica and Courier",
            one_column,
            (
                (
                    "sentence in a line",
                    (
                        piece(LEFT, 3, "The deck was resurfaced"),
                        piece(LEFT, 4, "in spring and reopened in June."),
                    ),
                ),
                ("sentence across a line break", (piece(LEFT, 0, LEFT[0]), piece(LEFT, 1, LEFT[1]))),
                ("Courier sentence in a line", (piece(RIGHT, 0, "Ferries run hourly.", offset=right),)),
            ),
        ),
        Case(
            "two columns, Helvetica and Times",
            two_columns,
            (
                (
                    "left column, across a line break",
                    (piece(LEFT, 2, LEFT[2]), piece(LEFT, 3, "lower girders.")),
                ),
                (
                    "right column, across two line breaks",
                    (
                        piece(RIGHT, 0, "The timetable", offset=right),
                        piece(RIGHT, 1, RIGHT[1], offset=right),
                        piece(RIGHT, 2, "service adds two crossings.", offset=right),
                    ),
                ),
            ),
        ),
        Case(
            "page turned 90 degrees",
            rotated,
            (
                ("sentence across a line break", (piece(LEFT, 0, LEFT[0]), piece(LEFT, 1, LEFT[1]))),
                ("sentence in a line", (piece(RIGHT, 0, "Ferries run hourly.", offset=right),)),
            ),
            rotate=90,
        ),
        Case(
            "fi and fl ligatures, Times",
            ligatures,
            (
                (
                    "office, workflow, across a line break",
                    (piece(LIGATURE_LINES, 0, LIGATURE_LINES[0]), piece(LIGATURE_LINES, 1, "new floor.")),
                ),
                (
                    "offices, airflow, across a line break",
                    (
                        piece(LIGATURE_LINES, 1, "Staff find the offices quiet"),
                        piece(LIGATURE_LINES, 2, "and the airflow steady."),
                    ),
                ),
            ),
        ),
        Case(
            "justified and kerned, Helvetica",
            spaced,
            (
                ("sentence in a justified line", (piece(KERNED_LINES, 1, "Tests at Wade Vale were done."),)),
                (
                    "sentence across a line break",
                    (piece(KERNED_LINES, 1, "Tomorrow the"), piece(KERNED_LINES, 2, KERNED_LINES[2])),
                ),
            ),
        ),
    ]


@dataclass(frozen=True)
class Measure:
    case: str
    quote: str
    coverage: float
    spill: float  # share of the other glyphs' area highlighted
    spill_of_quote: float  # that area over the quoted glyphs' area


def measure(base: rag.KnowledgeBase, folder: Path, only: Sequence[Case] | None = None) -> list[Measure]:
    """Ingest each case's PDF (every case by default) into base and measure each of its quotes."""
    results = []
    for number, case in enumerate(cases() if only is None else only):
        path = folder / f"highlight-{number}.pdf"
        path.write_bytes(pdf_bytes(case))
        report = base.ingest([path])
        if report.count("failed"):
            raise RuntimeError(f"{path.name} failed to ingest: {report.to_dict()}")
        document = base.document(str(path))
        boxes = glyph_boxes(case)
        for label, pieces in case.quotes:
            start, end = _quote_span(document.text, case, pieces)
            highlight = base.highlight_boxes(document.id, 1, (start, end))
            quoted = [
                box for line, first, last in pieces for box in boxes[line][first:last] if box is not None
            ]
            chosen = {(line, index) for line, first, last in pieces for index in range(first, last)}
            others = [
                box
                for line, line_boxes in enumerate(boxes)
                for index, box in enumerate(line_boxes)
                if box is not None and (line, index) not in chosen
            ]
            results.append(Measure(case.name, label, *_shares(case, highlight, quoted, others)))
    return results


def _quote_span(text: str, case: Case, pieces: Sequence[tuple[int, int, int]]) -> tuple[int, int]:
    """Where the pieces, joined by any whitespace, are in the stored text (exactly once)."""
    pattern = r"\s+".join(re.escape(case.lines[line].text[first:last]) for line, first, last in pieces)
    found = list(re.finditer(pattern, text))
    if len(found) != 1:
        raise RuntimeError(f"{case.name}: quote {pattern!r} found {len(found)} times in {text!r}")
    return found[0].span()


def _shares(
    case: Case, highlight: Sequence[Box], quoted: Sequence[Box], others: Sequence[Box]
) -> tuple[float, float, float]:
    width, height = case.size if case.rotate % 180 == 0 else case.size[::-1]
    shape = (round(height * CELLS_PER_POINT), round(width * CELLS_PER_POINT))
    lit, inside, outside = (_mask(shape, boxes) for boxes in (highlight, quoted, others))
    outside &= ~inside  # a cell shared by a quoted and another glyph counts as quoted
    quoted_area = max(int(inside.sum()), 1)
    spill_area = int((lit & outside).sum())
    return (
        int((lit & inside).sum()) / quoted_area,
        spill_area / max(int(outside.sum()), 1),
        spill_area / quoted_area,
    )


def _mask(shape: tuple[int, int], boxes: Sequence[Box]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    rows, columns = shape
    for left, top, right, bottom in boxes:
        mask[round(top * rows) : round(bottom * rows), round(left * columns) : round(right * columns)] = True
    return mask


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line per quote: coverage and spill."""
    parser = argparse.ArgumentParser(
        prog="python -m eval.highlight_accuracy", description=__doc__.split("\n\n")[0]
    )
    parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        rag.open(Path(folder) / "index", embedder=rag.HashingEmbedder(256)) as base,
    ):
        results = measure(base, Path(folder))
    print(f"{'case':36} {'quote':40} {'coverage':>8} {'spill':>7} {'spill/quote':>11}")
    for result in results:
        print(
            f"{result.case:36} {result.quote:40} {result.coverage:8.4f} {result.spill:7.4f}"
            f" {result.spill_of_quote:11.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
