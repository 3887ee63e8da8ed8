"""Hybrid retrieval: FAISS cosine and FTS5 bm25 candidates fused by reciprocal rank fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.embedding import Embedder, covers_language
from rag.language.analysis import fts_query
from rag.language.detection import likeliest_language
from rag.storage.store import ChunkRecord, Store
from rag.storage.vectors.index import VectorIndex
from rag.terms import STOPWORDS
from rag.types import Passage, page_number

# In a language the embedding model was not trained on, its ranking is noise that only pulls
# the lexical one down: on xquad-multilingual-dev (articles 00-11, answerable questions) any
# weight above zero lowered hit@1 in all six languages (Arabic: 0.93 lexical, 0.46 at 0.25,
# 0.27 at 1). So there it only orders, after them, the chunks lexical search does not find.
UNCOVERED_DENSE_WEIGHT = 0.0


@dataclass
class Candidates:
    """Per-retriever scores of candidate chunks, keyed by chunk id, in rank order."""

    dense: dict[int, float] = field(default_factory=dict)
    lexical: dict[int, float] = field(default_factory=dict)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], rrf_k: int = 60, weights: Sequence[float] | None = None
) -> dict[int, float]:
    """Fuse ranked id lists: score(id) = sum over lists of weight / (rrf_k + rank)."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, row_id in enumerate(ranking, start=1):
            fused[row_id] = fused.get(row_id, 0.0) + weight / (rrf_k + rank)
    return fused


class HybridRetriever:
    """Finds the passages most related to a query in one index."""

    def __init__(
        self,
        store: Store,
        vectors: VectorIndex,
        embedder: Embedder,
        candidates: int = 50,
        rrf_k: int = 60,
    ) -> None:
        self.store = store
        self.vectors = vectors
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k

    def candidates_for(self, query: str, mode: str, query_vector: np.ndarray | None = None) -> Candidates:
        """Dense and/or lexical candidate chunks for a query."""
        found = Candidates()
        if mode in ("hybrid", "dense"):
            vector = query_vector if query_vector is not None else self.embedder.embed([query])[0]
            scores, row_ids = self.vectors.search(self.store, vector[None, :], self.candidates)
            found.dense = {
                int(row_id): float(score)
                for score, row_id in zip(scores[0], row_ids[0], strict=True)
                if row_id >= 0
            }
        if mode in ("hybrid", "lexical"):
            expression = fts_query(query, self.store.languages(), skip=STOPWORDS)
            if expression:
                found.lexical = dict(self.store.lexical_search(expression, self.candidates))
        return found

    def dense_weight(self, query: str) -> float:
        """1 when the embedding model knows the question's language, else UNCOVERED_DENSE_WEIGHT (0)."""
        language = likeliest_language(query, self.store.languages())
        return 1.0 if covers_language(self.embedder, language) else UNCOVERED_DENSE_WEIGHT

    def search(self, query: str, k: int, mode: str = "hybrid") -> list[Passage]:
        """The k best passages for the query, fused across retrievers, best first."""
        if not query.strip():
            return []
        found = self.candidates_for(query, mode)
        weights = (self.dense_weight(query), 1.0)
        fused = reciprocal_rank_fusion([list(found.dense), list(found.lexical)], self.rrf_k, weights)
        best = sorted(fused, key=lambda row_id: fused[row_id], reverse=True)[:k]
        records = self.store.chunk_records(best)
        passages: list[Passage] = []
        for row_id in best:
            record = records.get(row_id)
            if record is None:
                continue  # removed between the FAISS search and this read
            passages.append(_passage(len(passages) + 1, record, found, fused[row_id]))
        return passages


def _passage(rank: int, record: ChunkRecord, found: Candidates, fused_score: float) -> Passage:
    chunk = record.chunk
    page = page_number(record.page_starts, chunk.start)
    return Passage(
        rank=rank,
        chunk_id=chunk.id,
        document_id=chunk.document_id,
        source=record.source,
        title=record.title,
        page=page,
        start=chunk.start,
        end=chunk.end,
        text=chunk.text,
        dense_score=found.dense.get(chunk.id),
        lexical_score=found.lexical.get(chunk.id),
        fused_score=fused_score,
        location=record.location,
    )
