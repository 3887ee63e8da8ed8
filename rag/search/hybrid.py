"""Hybrid retrieval: vector cosine and bm25 candidates, fused by a learned ranker or by ranks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rag.embedding import Embedder, covers_language, embed_query
from rag.language.analysis import query_terms
from rag.language.detection import likeliest_language
from rag.language.sentences import sentence_texts
from rag.search.fusion import fusion_features, learned_scores, reciprocal_rank_fusion
from rag.search.injection import is_instruction
from rag.search.sentence_evidence import best_sentence_similarity
from rag.settings import Settings
from rag.storage.engine import DocumentStore, VectorSearch
from rag.storage.records import ChunkRecord
from rag.storage.scope import Scope
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
    sentence: dict[int, float] = field(default_factory=dict)


class HybridRetriever:
    """Finds the passages most related to a query in one index."""

    def __init__(
        self,
        store: DocumentStore,
        vectors: VectorSearch,
        embedder: Embedder,
        settings: Settings,
        scope: Scope | None = None,
    ) -> None:
        self.store = store
        # What the reader may see: applied where candidates are found, by FAISS and by FTS5.
        self.scope = scope
        self.vectors = vectors
        self.embedder = embedder
        self.candidates = settings.candidates
        self.rrf_k = settings.rrf_k
        self.fusion = settings.fusion

    def candidates_for(self, query: str, mode: str, query_vector: np.ndarray | None = None) -> Candidates:
        """Dense and/or lexical candidate chunks for a query."""
        found = Candidates()
        if mode in ("hybrid", "dense"):
            vector = query_vector if query_vector is not None else embed_query(self.embedder, query)
            scores, row_ids = self.vectors.search(vector[None, :], self.candidates, self.scope)
            found.dense = {
                int(row_id): float(score)
                for score, row_id in zip(scores[0], row_ids[0], strict=True)
                if row_id >= 0
            }
        if mode in ("hybrid", "lexical"):
            terms = query_terms(query, self.store.languages(self.scope), skip=STOPWORDS)
            if terms:
                found.lexical = dict(self.store.lexical_search(terms, self.candidates, self.scope))
        return found

    def dense_weight(self, query: str) -> float:
        """1 when the embedding model knows the question's language, else UNCOVERED_DENSE_WEIGHT (0)."""
        language = likeliest_language(query, self.store.languages(self.scope))
        return 1.0 if covers_language(self.embedder, language) else UNCOVERED_DENSE_WEIGHT

    def search(self, query: str, k: int, mode: str = "hybrid") -> list[Passage]:
        """The k best passages for the query, fused across retrievers, best first."""
        if not query.strip():
            return []
        if mode == "hybrid" and self.fusion == "learned":
            vector = embed_query(self.embedder, query)
            found = self.candidates_for(query, mode, vector)
            row_ids = list(dict.fromkeys([*found.dense, *found.lexical]))
            records = self.store.chunk_records(row_ids)
            fused = self._learned(found, records, vector, self.dense_weight(query))
        else:
            found = self.candidates_for(query, mode)
            weights = (self.dense_weight(query), 1.0)
            fused = reciprocal_rank_fusion([list(found.dense), list(found.lexical)], self.rrf_k, weights)
            records = self.store.chunk_records(
                sorted(fused, key=lambda row_id: fused[row_id], reverse=True)[:k]
            )
        best = sorted((row_id for row_id in fused if row_id in records), key=lambda row_id: -fused[row_id])[
            :k
        ]
        return [
            _passage(rank, records[row_id], found, fused[row_id]) for rank, row_id in enumerate(best, start=1)
        ]

    def _learned(
        self, found: Candidates, records: dict[int, ChunkRecord], vector: np.ndarray, dense_weight: float
    ) -> dict[int, float]:
        """Score every candidate with the learned ranker; fills in the scores it needs on found.

        dense_weight scales the embedding model's evidence (0: a language it does not know).
        """
        # An approximate index may score its candidates on 8-bit codes; the ranker compares them with
        # the exact cosines of chunks only lexical search found, so then every cosine is exact.
        exact = self.vectors.exact_scores
        missing = [row_id for row_id in records if row_id not in found.dense or not exact]
        for row_id, chunk_vector in self.store.chunk_vectors(missing, len(vector)).items():
            found.dense[row_id] = float(chunk_vector @ vector)
        texts = {row_id: record.chunk.text for row_id, record in records.items()}
        found.sentence = best_sentence_similarity(
            texts, vector, sentence_texts, lambda wanted: self.store.sentence_vectors(wanted, len(vector))
        )
        row_ids = list(records)
        features = fusion_features(row_ids, found.dense, found.lexical, found.sentence)
        scores = learned_scores(features, dense_weight=dense_weight)
        return dict(zip(row_ids, scores.tolist(), strict=True))


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
        sentence_score=found.sentence.get(chunk.id),
        fused_score=fused_score,
        location=record.location,
        contains_instructions=is_instruction(chunk.text),
    )
