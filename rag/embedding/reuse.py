"""Vectors computed once per question: the question's by the search, the sentences' at ingest."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rag.embedding.base import Embedder, embed_query
from rag.embedding.languages import ASSUMED_LANGUAGES

# (texts, dimension) -> the stored vectors of those texts that have one
StoredVectors = Callable[[Sequence[str], int], dict[str, np.ndarray]]


class ReusingEmbedder:
    """An embedder for one question that asks the model only for texts it has no vector for yet.

    Every text it embeds is kept, and so is the question's vector (embed_query), so the answer
    step reuses the question vector the search computed; the texts of a batch (the sentences of the retrieved passages) are first looked
    up with `stored`, which returns the vectors the index holds for some of them. Make one per
    question: what it keeps is never shared between questions or threads.
    """

    def __init__(self, embedder: Embedder, stored: StoredVectors) -> None:
        self.inner = embedder
        self.name = embedder.name
        self._stored = stored
        self._known: dict[str, np.ndarray] = {}
        self._questions: dict[str, np.ndarray] = {}  # apart: a model may embed questions differently

    @property
    def backend(self) -> str:
        """The backend of the embedder that does the work."""
        return str(getattr(self.inner, "backend", "custom"))

    @property
    def languages(self) -> frozenset[str]:
        """The languages of the model that does the work."""
        return frozenset(getattr(self.inner, "languages", ASSUMED_LANGUAGES))

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of the texts; only those neither known nor stored are embedded."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        missing = [text for text in dict.fromkeys(texts) if text not in self._known]
        if len(missing) > 1:
            self._known |= self._stored(missing, self.dimension)
            missing = [text for text in missing if text not in self._known]
        if missing:
            self._known |= dict(zip(missing, self.inner.embed(missing), strict=True))
        return np.vstack([self._known[text] for text in texts]).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """The question's vector, computed once for the search and the answer step."""
        if text not in self._questions:
            self._questions[text] = embed_query(self.inner, text)
        return self._questions[text]
