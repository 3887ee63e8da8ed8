"""Sentence-level evidence for ranking: how close a chunk's best sentence is to the query.

A chunk's vector averages everything it says; a claim is usually supported by one sentence.
The sentence vectors were stored at ingest (keyed by sentence text), so this embeds nothing:
it splits each candidate chunk into sentences and looks their vectors up. Sentences cut by a
chunk edge have no stored vector and are skipped; a chunk with none keeps its dense score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

SentenceSplitter = Callable[[str], Sequence[str]]
VectorLookup = Callable[[Sequence[str]], Mapping[str, np.ndarray]]


def best_sentence_similarity(
    chunk_texts: Mapping[int, str],
    query_vector: np.ndarray,
    split: SentenceSplitter,
    lookup: VectorLookup,
) -> dict[int, float]:
    """For each chunk id, the highest cosine between the query and one of its stored sentences."""
    sentences = {row_id: list(dict.fromkeys(split(text))) for row_id, text in chunk_texts.items()}
    wanted = sorted({sentence for found in sentences.values() for sentence in found})
    vectors = lookup(wanted) if wanted else {}
    if not vectors:
        return {}
    known = list(vectors)
    similarity = dict(
        zip(known, (np.stack([vectors[text] for text in known]) @ query_vector).tolist(), strict=True)
    )
    best: dict[int, float] = {}
    for row_id, found in sentences.items():
        scores = [similarity[text] for text in found if text in similarity]
        if scores:
            best[row_id] = max(scores)
    return best
