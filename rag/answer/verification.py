"""Check a generated answer against the passages: align each sentence to a verbatim span."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.answer.quotes import sentence_quotes
from rag.embedding import Embedder
from rag.language.sentences import split_sentences
from rag.search.injection import is_instruction
from rag.terms import content_terms, stem
from rag.types import Citation, Document, Passage, Quote, SentenceSupport

SUPPORT_THRESHOLD = 0.6
SIMILARITY_WEIGHT = 0.6
OVERLAP_WEIGHT = 0.4
# A figure the evidence does not contain is the commonest confident hallucination.
MISSING_NUMBER_FACTOR = 0.5
_MARKER = re.compile(r"[ \t]*\[\s*\d+(?:\s*[,;-]\s*\d+)*\s*\]")
_UNFINISHED_MARKER = re.compile(r"[ \t]*\[[\d,;\s-]*$")
_WORD = re.compile(r"\w", re.UNICODE)
_LIST_LABEL = re.compile(r"^\s*(?:[A-Za-z]|\d{1,2})[.)]\s+")


@dataclass(frozen=True)
class SupportingSpan:
    """A whole sentence of a retrieved passage that an answer sentence may rest on."""

    quote: Quote
    passage: Passage
    stems: frozenset[str]


@dataclass(frozen=True)
class VerifiedSentence:
    """One answer sentence with its best supporting span (None when nothing supports it)."""

    text: str
    score: float
    evidence: SupportingSpan | None

    @property
    def is_supported(self) -> bool:
        """True when a span of the passages supports the sentence."""
        return self.evidence is not None


def strip_markers(text: str) -> str:
    """The text without [n] citation markers, including one still being typed at the end."""
    return _UNFINISHED_MARKER.sub("", _MARKER.sub("", text))


def answer_sentences(text: str) -> list[str]:
    """The sentences of a generated answer, markers removed; short ones are kept too."""
    clean = strip_markers(text)
    # split_sentences skips very short sentences; the gaps between its spans keep them.
    cuts = [0]
    for span in split_sentences(clean):
        cuts.extend((span.start, span.end))
    cuts.append(len(clean))
    pieces = [clean[start:end] for start, end in itertools.pairwise(cuts)]
    return [" ".join(piece.split()) for piece in pieces if _WORD.search(piece)]


class Verifier:
    """Aligns answer sentences to the sentences of a fixed set of passages."""

    def __init__(
        self,
        passages: Sequence[Passage],
        load_document: Callable[[str], Document],
        embedder: Embedder,
        threshold: float | None = None,
        question: str = "",
    ) -> None:
        self.passages = passages
        self.question_stems = frozenset(_stems(question))
        self.load_document = load_document
        self.embedder = embedder
        self.threshold = SUPPORT_THRESHOLD if threshold is None else threshold
        self._evidence: list[SupportingSpan] | None = None
        self._vectors: np.ndarray | None = None
        self._cache: dict[str, VerifiedSentence] = {}

    def evidence(self) -> list[SupportingSpan]:
        """Every whole sentence of the passages except instructions, computed once."""
        if self._evidence is None:
            quotes = sentence_quotes(
                self.passages, self.load_document, keep=lambda sentence: not is_instruction(sentence)
            )
            self._evidence = [
                SupportingSpan(item.quote, item.passage, frozenset(_stems(item.readable))) for item in quotes
            ]
            texts = [item.readable for item in quotes]
            self._vectors = self.embedder.embed(texts) if texts else None
        return self._evidence

    def verify(self, sentence: str) -> VerifiedSentence:
        """The sentence with its best supporting span and score (cached per sentence)."""
        if sentence not in self._cache:
            self._cache[sentence] = self._align(sentence)
        return self._cache[sentence]

    def _align(self, sentence: str) -> VerifiedSentence:
        evidence = self.evidence()
        if not evidence or self._vectors is None or is_instruction(sentence):
            return VerifiedSentence(sentence, 0.0, None)
        similarities = self._vectors @ self.embedder.embed([sentence])[0]
        # Restating the question matches every passage about it; what must be found in the
        # evidence is what the sentence adds (the answer), when it adds anything.
        own_stems = set(_stems(sentence))
        claimed = (own_stems - self.question_stems) or own_stems
        numbers = {term for term in claimed if term.isdigit()}
        scores = [
            (SIMILARITY_WEIGHT * float(similarity) + OVERLAP_WEIGHT * _overlap(claimed, item.stems))
            * (MISSING_NUMBER_FACTOR if numbers - item.stems else 1.0)
            for item, similarity in zip(evidence, similarities, strict=True)
        ]
        best = int(np.argmax(scores))
        score = round(scores[best], 4)
        return VerifiedSentence(sentence, score, evidence[best] if score >= self.threshold else None)


def _stems(text: str) -> list[str]:
    return [stem(term) for term in content_terms(text)]


def _overlap(own_stems: set[str], evidence_stems: frozenset[str]) -> float:
    """Share of the sentence's content words found in the evidence (what it claims, covered)."""
    if not own_stems:
        return 0.0
    return len(own_stems & evidence_stems) / len(own_stems)


def compose_verified(
    sentences: Sequence[VerifiedSentence],
    load_document: Callable[[str], Document],
    drop_unsupported: bool = False,
) -> tuple[str, tuple[Citation, ...], tuple[SentenceSupport, ...]]:
    """Answer text with our own [n] after each supported sentence, its citations and supports."""
    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    supports: list[SentenceSupport] = []
    seen: set[str] = set()
    for sentence in sentences:
        # Small models loop ("A. X. B. X. C. X."): a repeated sentence says nothing new.
        normalized = " ".join(_LIST_LABEL.sub("", sentence.text).lower().split())
        if normalized in seen:
            continue
        seen.add(normalized)
        if sentence.evidence is None:
            supports.append(SentenceSupport(sentence.text, sentence.score, False, ()))
            if not drop_unsupported:
                parts.append(sentence.text)
            continue
        quote, passage = sentence.evidence.quote, sentence.evidence.passage
        key = (quote.document_id, quote.start, quote.end)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            document = load_document(quote.document_id)
            citations.append(
                Citation(
                    numbers[key],
                    passage.source,
                    passage.title,
                    document.page_at(quote.start),
                    quote,
                    passage.rank,
                    sentence.score,
                    document.location_at(quote.start),
                    passage.collection,
                )
            )
        supports.append(SentenceSupport(sentence.text, sentence.score, True, (numbers[key],)))
        parts.append(f"{sentence.text} [{numbers[key]}]")
    return " ".join(parts), tuple(citations), tuple(supports)
