"""Evaluation metrics: plain functions over ranked ids, answer texts and timings."""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath

import numpy as np

from rag.language.scripts import space_unspaced

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CITATION_MARKER = re.compile(r"\[\d+\]")
_ASCII_PUNCTUATION = frozenset(string.punctuation)


def source_matches(expected: str, actual: str) -> bool:
    """True when an expected source names the actual one: equal, or its file name or stem."""
    if not expected or not actual:
        return False
    path = PurePath(actual)
    names = {actual, path.name, path.stem}
    return expected in names or PurePath(expected).name in names


def matches_any(expected: Iterable[str], actual: str) -> bool:
    """True when any expected source names the actual source."""
    return any(source_matches(name, actual) for name in expected)


def dedupe(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without repeats: passage sources become a document ranking."""
    return list(dict.fromkeys(items))


def hit_at_k(ranked: Sequence[str], expected: Sequence[str], k: int) -> float:
    """1.0 when any of the top-k ranked sources is expected, else 0.0."""
    return float(any(matches_any(expected, source) for source in ranked[:k]))


def recall_at_k(ranked: Sequence[str], expected: Sequence[str], k: int) -> float:
    """Share of the expected sources found among the top-k ranked sources."""
    if not expected:
        return 0.0
    top = ranked[:k]
    return sum(any(source_matches(name, source) for source in top) for name in expected) / len(expected)


def reciprocal_rank(ranked: Sequence[str], expected: Sequence[str], k: int = 10) -> float:
    """1 / rank of the first expected source within the top k; 0.0 when none is there."""
    for rank, source in enumerate(ranked[:k], start=1):
        if matches_any(expected, source):
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, float], k: int = 10) -> float:
    """nDCG@k as trec_eval/BEIR compute it: gain = relevance, discount = log2(rank + 1)."""
    gains = [relevance.get(item, 0.0) for item in ranked[:k]]
    dcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))
    ideal = sorted((value for value in relevance.values() if value > 0), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no citation markers, punctuation, articles or extra spaces.

    As MLQA's evaluation does for Chinese, each character of a script written without spaces
    counts as a word, so '308' is found in '只丢了308分'; punctuation is any Unicode punctuation.
    """
    text = _CITATION_MARKER.sub(" ", text).lower()
    text = "".join(
        character
        for character in text
        if character not in _ASCII_PUNCTUATION and not unicodedata.category(character).startswith("P")
    )
    return " ".join(_ARTICLES.sub(" ", space_unspaced(text)).split())


def answer_contains(answer: str, accepted: Sequence[str]) -> float:
    """1.0 when the normalised answer contains any normalised accepted answer as whole words."""
    padded = f" {normalize_answer(answer)} "
    return float(any(f" {normal} " in padded for normal in map(normalize_answer, accepted) if normal))


def parts_found(quotes: Sequence[str], parts: Sequence[Sequence[str]]) -> int:
    """How many parts have one of their accepted answers inside one quote."""
    return sum(any(answer_contains(quote, part) for quote in quotes) for part in parts)


def token_f1(answer: str, reference: str) -> float:
    """SQuAD token F1 between an answer and one reference."""
    predicted, gold = normalize_answer(answer).split(), normalize_answer(reference).split()
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def best_token_f1(answer: str, references: Sequence[str]) -> float:
    """The best token F1 of the answer against any reference."""
    return max((token_f1(answer, reference) for reference in references if reference), default=0.0)


def refusal_scores(refused: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float]:
    """Refusal precision and recall, treating 'refused' as the positive prediction of 'unanswerable'."""
    true_refusals = sum(r and not a for r, a in zip(refused, answerable, strict=True))
    scores: dict[str, float] = {}
    if any(refused):
        scores["refusal_precision"] = true_refusals / sum(refused)
    if not all(answerable):
        scores["refusal_recall"] = true_refusals / sum(not a for a in answerable)
    return scores


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation; 0.0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else 0.0


def latency_summary(name: str, milliseconds: Sequence[float]) -> dict[str, float]:
    """'{name}_p50_ms' and '{name}_p95_ms' of a list of timings."""
    if not milliseconds:
        return {}
    return {
        f"{name}_p50_ms": round(percentile(milliseconds, 50), 2),
        f"{name}_p95_ms": round(percentile(milliseconds, 95), 2),
    }


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None
