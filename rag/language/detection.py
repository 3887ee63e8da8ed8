"""Which language a document is written in: its script, then py3langid within that script."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.language.scripts import SAMPLE_CHARS, dominant_script, script_counts

UNDETERMINED = "und"
# Below this probability py3langid's best guess is not trusted.
MIN_CONFIDENCE = 0.25
MIN_LETTERS = 20
# Japanese prose mixes kana into its kanji; Chinese has none.
KANA_SHARE_OF_JAPANESE = 0.1
# Scripts used by one language only: no statistics needed.
_SCRIPT_LANGUAGES = {
    "Han": "zh",
    "Hangul": "ko",
    "Hiragana": "ja",
    "Katakana": "ja",
    "Thai": "th",
    "Greek": "el",
}

# The languages a guess may name: widely written ones. Without this list py3langid calls short
# English 'pcm' (Nigerian Pidgin) and Spanish 'an' or 'ext', close varieties of the same words.
CANDIDATE_LANGUAGES = tuple(
    """af am ar az be bg bn bs ca cs cy da de el en eo es et eu fa fi fr ga gl gu he hi hr hu hy id
    is it ja ka kk km kn ko ku ky la lb lo lt lv mk ml mn mr ms mt my ne nl nn no pa pl ps pt ro ru
    si sk sl sq sr sv sw ta te tg th tl tr uk ur uz vi zh""".split()
)

_identifier: Any = None
_identifier_lock = threading.Lock()


@dataclass(frozen=True)
class LanguageInfo:
    """A text's language (ISO 639-1 code, 'und' when unknown) and dominant script."""

    language: str
    script: str


def detect_language(text: str) -> LanguageInfo:
    """The language and script of a document, from its first SAMPLE_CHARS characters."""
    sample = text[:SAMPLE_CHARS]
    counts = script_counts(sample)
    script = dominant_script(counts)
    if script == "Han" and counts["Hiragana"] + counts["Katakana"] >= KANA_SHARE_OF_JAPANESE * counts["Han"]:
        return LanguageInfo("ja", script)
    if script in _SCRIPT_LANGUAGES:
        return LanguageInfo(_SCRIPT_LANGUAGES[script], script)
    if script in ("Common", "Other") or counts.total() < MIN_LETTERS:
        return LanguageInfo(UNDETERMINED, script)
    language, probability = _language_identifier().classify(sample)
    return LanguageInfo(language if probability >= MIN_CONFIDENCE else UNDETERMINED, script)


def likeliest_language(text: str, candidates: Sequence[str]) -> str:
    """Which of the candidate languages (those of an index) a short text, like a question, is in."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else UNDETERMINED
    probabilities = dict(_language_identifier().rank(text))
    return max(candidates, key=lambda code: probabilities.get(code, 0.0))


def _language_identifier() -> Any:
    """py3langid's model with normalised probabilities, loaded once (about a second)."""
    global _identifier
    with _identifier_lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages([code for code in CANDIDATE_LANGUAGES if code in identifier.labels])
            _identifier = identifier
    return _identifier
