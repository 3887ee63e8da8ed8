"""Contextual chunk headers: a chunk is embedded and found with its document's title and section.

The second chunk of an abstract or the fifth of a manual no longer says what it is about; its
title and section heading do. The header goes only into what a chunk is embedded and found by
(its search text); the chunk's text, and so every quote, stays a verbatim span of the document.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import PurePath

from rag.types import Location, TextSpan

_MARKDOWN_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
# The part of a label that says where, not what about ("page 3 (OCR)", "slide 2: "): numbers
# would add nothing to a header.
_PLACE = re.compile(r"^(?:page|row|slide) \d+(?: \(OCR\))?[:,]?\s*", re.IGNORECASE)
# A header already stated near the start of a chunk is not repeated.
_SEEN_WITHIN = 300


def contextual_search_texts(
    source: str, title: str, text: str, spans: Sequence[TextSpan], locations: Sequence[Location] = ()
) -> list[str]:
    """What each chunk is embedded and found by: its text after the title and section it lacks.

    Returns [] when no chunk needs a header, so that plain chunks store no search text.
    """
    sections = list(locations) or _markdown_sections(text)
    starts = [section.start for section in sections]
    useful_title = _meaningful_title(title, source)
    search_texts: list[str] = []
    for span in spans:
        nearest = bisect_right(starts, span.start) - 1
        heading = _PLACE.sub("", sections[nearest].label).strip() if nearest >= 0 else ""
        opening = span.text[:_SEEN_WITHIN].casefold()
        header = [
            part for part in dict.fromkeys((useful_title, heading)) if part and part.casefold() not in opening
        ]
        search_texts.append("\n".join([*header, span.text]) if header else span.text)
    return (
        search_texts
        if any(found != span.text for found, span in zip(search_texts, spans, strict=True))
        else []
    )


def _meaningful_title(title: str, source: str) -> str:
    """The title, unless it is only the file name (or id) it fell back to."""
    stripped = title.strip()
    return "" if stripped in {source, PurePath(source).name, PurePath(source).stem} else stripped


def _markdown_sections(text: str) -> list[Location]:
    """Markdown headings as locations: where each section starts and its heading."""
    return [Location(match.start(), match.group(1).strip()) for match in _MARKDOWN_HEADING.finditer(text)]
