"""Document structure in plain text: title, headings, bylines, post authors and dates, as spans.

Extracted text keeps little markup, but articles, blogs and forum pages keep their shape: a
short first line is the title; "By Jane Doe and John Roe – Paper" under it is the byline (a
headline before it on its line is the article's own title, "Paper" its publication); a
short line that is mostly a date is a dateline; a short name line followed by such a date is
the author of a post or comment. Questions like "who wrote the article" or "when was the
comment posted" are answered by quoting these spans, so each is an exact range of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.language.vocabulary import all_words, alternatives
from rag.types import StructureSpan

TITLE = "title"
HEADING = "heading"
HEADLINE = "headline"  # the article's own title, on the line its byline ends: "Kremlin's Comeback ... By"
BYLINE = "byline"  # who wrote the document: "By Missy Ryan and Amie Ferris-Rotman – Washington Post"
PUBLICATION = "publication"  # what a byline names after its names ("Washington Post"), or a copyright holder
AUTHOR = "author"  # a name line right above a date line: who posted a comment or a post
PUBLISHED = "published"  # the first date line of the document's head: when it appeared
POSTED = "posted"  # the date line under an author line: when that comment or post was written
DATE = "date"  # any other line that is mostly a date
KINDS = (TITLE, HEADING, HEADLINE, BYLINE, PUBLICATION, AUTHOR, PUBLISHED, POSTED, DATE)
HEADING_KINDS = frozenset({TITLE, HEADING, HEADLINE})
# Lines that name a topic, a commenter or a date, not what a document says: never quoted as a
# sentence that answers a question (structure questions quote them as spans). A byline stays
# quotable: "Who are Missy Ryan and Amie Ferris-Rotman?" is answered by it.
FRAME_KINDS = HEADING_KINDS | {AUTHOR, PUBLISHED, POSTED, DATE}
# Raised whenever find_structure finds more or other spans: an index whose spans an older
# version found gets them again the next time it is opened for writing (storage/schema.py).
# 2: headline and publication spans. 3: copyright holders as publications. 4: bylines, author
# labels and dates of German, Spanish, French, Italian, Portuguese, Dutch and Russian. 5: bylines,
# commenters and dates of Chinese, Arabic and Hindi.
STRUCTURE_VERSION = 5

MAX_SHORT_LINE_WORDS = 12  # titles, headings, datelines and name lines are short
MAX_NAME_WORDS = 4
HEAD_LINES = 8  # the title, byline and dateline of an article come in its first lines
_MONTH = "(?:" + alternatives(lambda pack: pack.short_months) + ")"
# Month names of other languages with capitals, written after the day: "9. November 2018",
# "9 de noviembre de 2018", "9 novembre 2018", "9 ноября 2018".
_OTHER_MONTH = (
    "(?:" + alternatives(lambda pack: pack.months if pack.has_capitals else (), ignore_case=True) + ")"
)
# And of languages without: "9 نوفمبر 2018", "9 تشرين الثاني 2018", "9 नवंबर 2018"; Chinese dates
# are "2018年11月9日".
_CASELESS_MONTH = "(?:" + alternatives(lambda pack: () if pack.has_capitals else pack.months) + ")"
_WEEKDAY = r"(?:(?-i:(?<![a-z]))(?:" + alternatives(lambda pack: pack.weekdays) + r")[a-z]*\.?,?\s+)?"
_TIME = r"(?:\s*(?:[|,@–—-]|\bat\b)?\s*\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[A-Z]{2,4}\b)?)?"
# The letter before a month name may be a capital ("4 MINS READNov 9, 2018"), never lowercase.
DATE_PATTERN = re.compile(
    _WEEKDAY
    + r"(?:"
    + rf"(?-i:(?<![a-z])){_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    + rf"|\b\d{{1,2}}\.?\s+{_MONTH}\.?,?\s+\d{{4}}"
    + rf"|\b\d{{1,2}}\.?\s+(?:de\s+)?{_OTHER_MONTH}\s+(?:de\s+)?\d{{4}}(?:\s*г\.)?"
    + rf"|(?<!\d)\d{{1,2}}\s+{_CASELESS_MONTH}\s+\d{{4}}(?!\d)"
    + r"|(?<!\d)\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号]"
    + r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    + r"|\b\d{4}-\d{2}-\d{2}\b"
    + r")"
    + _TIME,
    re.IGNORECASE,
)
# What starts a byline ("By", "Von", "Por", ...), after the start of the line or of a sentence.
_BYLINE_START = re.compile(
    r"(?:^|(?<=[.!?”\"’]\s))(?:" + alternatives(lambda pack: pack.byline_starts) + r")\s+(?=\S)"
)
_AUTHOR_LABEL = re.compile(
    r"^(?:" + alternatives(lambda pack: pack.author_labels) + r")\s*:\s*(?=\S)",
    re.IGNORECASE,
)
# In scripts without capitals a byline is known by its label only: "作者：王小明", "文/王小明",
# "记者 王小明", "بقلم: أحمد علي", "بقلم أحمد علي", "लेखक: राहुल शर्मा".
_CASELESS_AUTHOR_LABEL = re.compile(r"^(?:" + alternatives(lambda pack: pack.labelled_bylines) + r")(?=\S)")
_CASELESS_LETTERS = re.compile(r"[\u0600-\u06ff\u0900-\u097f\u4e00-\u9fff]")
MAX_HAN_NAME_CHARACTERS = 4
# Words that join names in a byline; anything else lowercase means a sentence ("By then the...").
_NAME_JOINERS = all_words(lambda pack: pack.name_joiners)
# Between names in a script without capitals: a joining word, or Chinese's enumeration commas.
_CASELESS_NAME_BREAK = re.compile(
    r"\s+(?:" + alternatives(lambda pack: pack.phrase_name_joiners) + r")\s*|、|，"
)
# Where a byline's names end and the publication or role begins.
_DASH = r"\s+[–—|-]\s+"
_BYLINE_BREAK = re.compile(
    _DASH + r"|\s*,\s+(?=(?:[A-Z]\w+\s+)*(?:" + alternatives(lambda pack: pack.byline_roles) + r")\b)"
)
_DASH_BREAK = re.compile(_DASH)
_COMPANY_ABBREVIATIONS = all_words(lambda pack: pack.company_abbreviations)
# "Copyright © 2018 Stratfor Enterprises, LLC. All rights reserved.": the holder published it.
_COPYRIGHT = re.compile(
    r"^(?i:copyright\s*)?(?:©|\((?i:c)\)|(?i:copyright))\s*(?:(?:19|20)\d{2}(?:\s*[-–]\s*(?:19|20)\d{2})?,?\s*)?"
    r"(?P<holder>[A-Z][\w&'’.,-]*(?:\s+[\w&'’.,-]+){0,6}?)\.?(?:\s+(?i:all rights reserved)\.?)?$"
)
_NOT_A_HEADING_END = re.compile(r"[.!?:;,–—。！？：；，،؛।-]$")
MAX_CASELESS_HEADING_CHARACTERS = 40  # a Chinese line has no spaces to count words by


def find_structure(text: str) -> tuple[StructureSpan, ...]:
    """The structure spans of a document's text, ascending by start."""
    lines = list(_lines(text))
    spans: list[StructureSpan] = []
    head_date_found = False
    for index, (start, end) in enumerate(lines):
        line = text[start:end]
        byline = _byline(line)
        if byline is not None:
            spans.extend(_byline_spans(line, start, byline))
        date = _date_line(line)
        if date is not None:
            previous = lines[index - 1] if index > 1 else None  # the first line is the title
            previous_line = text[previous[0] : previous[1]] if previous is not None else ""
            if previous is not None and _is_name_line(previous_line) and _byline(previous_line) is None:
                spans.append(StructureSpan(AUTHOR, previous[0], previous[1]))
                kind = POSTED
            elif index < HEAD_LINES and not head_date_found:
                kind = PUBLISHED
                head_date_found = True
            else:
                kind = DATE
            spans.append(StructureSpan(kind, start + date[0], start + date[1]))
        elif byline is None and (holder := _COPYRIGHT.match(line)) is not None:
            spans.append(
                StructureSpan(PUBLICATION, start + holder.start("holder"), start + _holder_end(holder))
            )
        elif byline is None and _is_heading(text, lines, index):
            spans.append(StructureSpan(TITLE if index == 0 else HEADING, start, end))
    return tuple(sorted(spans, key=lambda span: span.start))


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank line, without its surrounding whitespace."""
    for match in re.finditer(r"[^\n]+", text):
        line = match.group(0)
        stripped = line.strip()
        if stripped:
            start = match.start() + (len(line) - len(line.lstrip()))
            yield start, start + len(stripped)


def _byline_spans(line: str, start: int, byline: int) -> Iterator[StructureSpan]:
    """The byline found at offset byline of the line that starts at start, the headline before it
    on the same line, and the publication it names after a dash ("– Washington Post")."""
    headline = line[:byline].rstrip()
    if headline:
        yield StructureSpan(HEADLINE, start, start + len(headline))
    yield StructureSpan(BYLINE, start + byline, start + len(line))
    parts = _BYLINE_BREAK.split(line[byline:], maxsplit=1)
    after_dash = parts[1].rstrip(".") if len(parts) == 2 else ""
    if (
        after_dash
        and _DASH_BREAK.search(line[byline:])
        and (_looks_like_names(after_dash) or _looks_like_caseless_names(after_dash))
    ):
        publication = parts[1].rstrip()
        yield StructureSpan(PUBLICATION, start + len(line) - len(publication), start + len(line))


def _holder_end(holder: re.Match[str]) -> int:
    """Where a copyright holder's name ends: before a closing full stop, unless it ends "Inc."."""
    name = holder.group("holder")
    last_word = name.rsplit(None, 1)[-1].rstrip(".").lower()
    if name.endswith(".") and last_word not in _COMPANY_ABBREVIATIONS:
        return holder.end("holder") - 1
    return holder.end("holder")


def _byline(line: str) -> int | None:
    """Where a byline starts in the line ("By Jane Doe – Paper", "Author: Jane Doe"), or None."""
    label = _AUTHOR_LABEL.match(line)
    if label is not None:
        return 0 if _looks_like_names(line[label.end() :]) else None
    label = _CASELESS_AUTHOR_LABEL.match(line)
    if label is not None:
        names = _BYLINE_BREAK.split(line[label.end() :], maxsplit=1)[0]
        return 0 if _looks_like_caseless_names(names) else None
    for match in _BYLINE_START.finditer(line):
        names = _BYLINE_BREAK.split(line[match.end() :], maxsplit=1)[0]
        if _looks_like_names(names):
            return match.start()
    return None


def _looks_like_names(names: str) -> bool:
    """'Missy Ryan and Amie Ferris-Rotman', 'J. R. Smith, Ann Lee': capitalised words and joiners."""
    words = names.replace(",", " ").split()
    if not words or len(words) > 3 * MAX_NAME_WORDS:
        return False
    if not words[0][0].isupper() or not words[-1][0].isupper():
        return False
    return all(word[0].isupper() or word.lower() in _NAME_JOINERS for word in words)


def _looks_like_caseless_names(names: str) -> bool:
    """Names in a script without capitals: 'أحمد علي', 'राहुल शर्मा' (up to MAX_NAME_WORDS words
    each, "و" / "और" / "、" between names), '王小明' (2 to 4 Han characters each); no digits and
    no sentence punctuation."""
    names = names.strip()
    if not names or not _CASELESS_LETTERS.search(names) or any(character.isdigit() for character in names):
        return False
    if re.search(r"[.!?。！？،,;:؛]$|[。！？；]", names):
        return False
    people = [person.strip() for person in _CASELESS_NAME_BREAK.split(names) if person.strip()]
    for person in people:
        if re.fullmatch(r"[\u4e00-\u9fff·]+", person):
            if not 2 <= len(person.replace("·", "")) <= MAX_HAN_NAME_CHARACTERS:
                return False
        elif not 1 <= len(person.split()) <= MAX_NAME_WORDS:
            return False
    return 1 <= len(people) <= MAX_NAME_WORDS


def _date_line(line: str) -> tuple[int, int] | None:
    """The date in a short line that is mostly that date ("Fri, 10/12/2018 - 12:01pm"), or None."""
    if len(line.split()) > MAX_SHORT_LINE_WORDS:
        return None
    match = DATE_PATTERN.search(line)
    if match is None or len(match.group(0).strip()) < len(line) / 2:
        return None
    return match.start(), match.start() + len(match.group(0).rstrip())


def _is_name_line(line: str) -> bool:
    """A line that is only a person's name: 'Bill C.', 'Jane van Doe'."""
    words = line.split()
    if not 1 <= len(words) <= MAX_NAME_WORDS or line.endswith((":", ",")):
        return False
    if any(character.isdigit() for character in line):
        return False
    if _CASELESS_LETTERS.search(line):
        return _looks_like_caseless_names(line)
    return _looks_like_names(line) and not (len(words) > 1 and line.endswith(".") and len(words[-1]) > 2)


def _is_heading(text: str, lines: list[tuple[int, int]], index: int) -> bool:
    """A short line without a sentence end that stands alone (blank lines or edges around it)."""
    start, end = lines[index]
    line = text[start:end]
    words = line.split()
    if not words or len(words) > MAX_SHORT_LINE_WORDS or _NOT_A_HEADING_END.search(line):
        return False
    if line.startswith("#"):
        return True
    # Blank lines around it, or a short line (a dateline) right above it and a blank line below.
    before = index == 0 or "\n\n" in text[lines[index - 1][1] : start].replace(" ", "")
    before = before or len(text[lines[index - 1][0] : lines[index - 1][1]].split()) <= MAX_SHORT_LINE_WORDS
    after = index + 1 == len(lines) or "\n\n" in text[end : lines[index + 1][0]].replace(" ", "")
    if _CASELESS_LETTERS.match(line) and len(line) > MAX_CASELESS_HEADING_CHARACTERS:
        return False
    return before and after and (words[0][0].isupper() or bool(_CASELESS_LETTERS.match(line)))
