"""Writing systems: which script a text is in, and how to cut it into word-like tokens."""

from __future__ import annotations

import re
from collections import Counter

import regex

# Scripts written without spaces between words: they are searched by character bigrams.
UNSPACED_SCRIPTS = ("Han", "Hiragana", "Katakana", "Hangul", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan")
# Scripts whose accents and vowel points are optional marks a reader may leave out.
FOLDED_SCRIPTS = ("Latin", "Greek", "Cyrillic", "Arabic", "Hebrew")
_KNOWN_SCRIPTS = (
    *FOLDED_SCRIPTS,
    *UNSPACED_SCRIPTS,
    "Devanagari",
    "Bengali",
    "Gurmukhi",
    "Gujarati",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Armenian",
    "Georgian",
    "Ethiopic",
    "Sinhala",
)
_SCRIPT_OF = {name: regex.compile(rf"\p{{Script={name}}}") for name in _KNOWN_SCRIPTS}
_UNSPACED = "".join(rf"\p{{Script={name}}}" for name in UNSPACED_SCRIPTS)
# A token is a run of letters, marks and digits; a run of an unspaced script is a token of its own.
_TOKEN = regex.compile(rf"[{_UNSPACED}][{_UNSPACED}\p{{M}}]*|(?:(?![{_UNSPACED}])[\p{{L}}\p{{M}}\p{{N}}])+")
# In ASCII the letters, marks and digits are these, and no script is unspaced: the same tokens.
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+")
# What a token can hold: a text whose characters beyond ASCII are none of these (typographic
# quotes, dashes, no-break spaces) has only ASCII tokens.
_TOKEN_CHARACTER = regex.compile(rf"[\p{{L}}\p{{M}}\p{{N}}{_UNSPACED}]")
_BEYOND_ASCII = re.compile(r"[^\x00-\x7f]+")
_GRAPHEME = regex.compile(r"\X")
_MARK = regex.compile(r"\p{Mn}")
_LETTER = regex.compile(r"\p{L}")
_WIDE = regex.compile(rf"[{_UNSPACED}]")
SAMPLE_CHARS = 20_000
UNSPACED_LETTER_WEIGHT = 3


def tokens(text: str) -> list[str]:
    """Word tokens of any script; each run of a script without spaces comes out whole."""
    if _ascii_words_only(text):  # most text: the stdlib's matcher finds these runs several times faster
        return _ASCII_TOKEN.findall(text)
    return _TOKEN.findall(text)


def _ascii_words_only(text: str) -> bool:
    return text.isascii() or _TOKEN_CHARACTER.search("".join(_BEYOND_ASCII.findall(text))) is None


def script_of(token: str) -> str:
    """The script of a token's first letter ('Common' for digits and symbols)."""
    letter = _LETTER.search(token)
    if letter is None:
        return "Common"
    for name, pattern in _SCRIPT_OF.items():
        if pattern.match(letter.group()):
            return name
    return "Other"


def script_counts(text: str) -> Counter[str]:
    """How many letters of each known script the text (its first SAMPLE_CHARS) holds."""
    sample = text[:SAMPLE_CHARS]
    return Counter({name: len(pattern.findall(sample)) for name, pattern in _SCRIPT_OF.items()})


def dominant_script(counts: Counter[str]) -> str:
    """The script that carries most of a text, from its script_counts."""
    weighted = Counter(counts)
    for name in UNSPACED_SCRIPTS:  # one such character carries about as much as a short word
        weighted[name] *= UNSPACED_LETTER_WEIGHT
    name, count = weighted.most_common(1)[0]
    return name if count else "Common"


def is_unspaced(token: str) -> bool:
    """True for a token of a script written without spaces (Chinese, Japanese, Thai...)."""
    if token[:1].isascii():  # every such script is beyond ASCII; most tokens are inside it
        return False
    return bool(_WIDE.match(token))


def characters(token: str) -> list[str]:
    """The user-perceived characters of a token: a base letter with its marks."""
    return _GRAPHEME.findall(token)


def strip_marks(text: str) -> str:
    """Text without its nonspacing marks (call on NFKD text to drop accents and vowel points)."""
    return _MARK.sub("", text)


def wide_characters(text: str) -> int:
    """How many characters of unspaced scripts the text holds (each about half a word)."""
    if text.isascii():  # every such character is outside ASCII; most text is inside it
        return 0
    return len(_WIDE.findall(text))


def word_count(text: str) -> float:
    """About how many words a text holds: tokens, with two unspaced characters to a word."""
    if _ascii_words_only(text):  # no unspaced script: every token is a word
        return len(_ASCII_TOKEN.findall(text))
    return sum(len(token) / 2 if is_unspaced(token) else 1 for token in tokens(text))


def space_unspaced(text: str) -> str:
    """The text with a space around every character of a script written without spaces."""
    return _WIDE.sub(lambda match: f" {match.group()} ", text)
