"""What a question asks for (a number, a date, a person), read from its question words in several languages.

English has its own table (its question word opens the question, and a name is a run of
capitalised words); the other one serves the languages scored by lexical evidence
(answer/lexical.py), where the question word is often mid-sentence (Chinese, Hindi).
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![\d.,])\d[\d.,\s]*")
_YEAR = re.compile(r"(?<!\d)(1\d{3}|20\d{2})(?!\d)")
_NAME = re.compile(r"\b[A-ZÀ-ÖØ-ÞА-ЯЁΑ-Ω][a-zà-öø-ÿа-яёα-ω]+(?:[ -][A-ZÀ-ÖØ-ÞА-ЯЁΑ-Ω][a-zà-öø-ÿа-яёα-ω]+)+\b")
# (question words, what an answer to them looks like), in the other languages
OTHER_ANSWER_TYPES = (
    (
        re.compile(
            r"\bwie (viele|viel|hoch|lange|alt|groß|gross|weit|oft)\b|\bcu[aá]nt[oa]s?\b|\bcombien\b"
            r"|\bquant[oa]s?\b|\bсколько\b|多少|几|(?<!\w)كم(?!\w)|कितन",
            re.I,
        ),
        _NUMBER,
    ),
    (
        re.compile(
            r"\bwann\b|\b(in )?welche[mns]? jahr|\bcu[aá]ndo\b|\b(en )?qu[eé] a[nñ]o\b|\bquand\b"
            r"|\bкогда\b|\b(в )?как(ом|ой) год|什么时候|哪一年|哪年|何时|متى|(?<!\w)أي (عام|سنة)|कब|किस (वर्ष|साल)",
            re.I,
        ),
        _YEAR,
    ),
    # German capitalises every noun, so a capitalised pair is no sign of a name there.
    (re.compile(r"\bqui[eé]n(es)?\b|\bqui\b|\bкто\b|\bкого\b|\bкому\b", re.I), _NAME),
)

# What an English question word asks for, and the surface form such an answer usually has.
ENGLISH_ANSWER_TYPES = (
    (
        re.compile(
            r"^\s*(how (many|much|long|old|far|large|big|tall)|what (percentage|number|amount))\b", re.I
        ),
        re.compile(
            r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b",
            re.I,
        ),
    ),
    (
        re.compile(r"^\s*(when|what year|in what year|which year)\b", re.I),
        re.compile(
            r"\b(1\d{3}|20\d{2})\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d", re.I
        ),
    ),
    (
        re.compile(r"^\s*(who|whom|whose)\b", re.I),
        # A name of two words anywhere, or of one after the sentence's first word ("... Newton").
        re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)+\b|(?<=[a-z,;] )[A-Z][a-z]+\b"),
    ),
)
AnswerTypes = tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]


def answer_type_match(question: str, sentence: str, table: AnswerTypes = OTHER_ANSWER_TYPES) -> float:
    """1.0 when the sentence holds what the question word asks for (a number, a date, a name)
    beyond what the question itself already says; the first matching question word decides."""
    for asks, looks_like in table:
        if asks.search(question):
            found = {match.group(0).strip().lower() for match in looks_like.finditer(sentence)}
            given = {match.group(0).strip().lower() for match in looks_like.finditer(question)}
            return 1.0 if found - given else 0.0
    return 0.0
