"""Vectors computed once: the question's from the search, the sentences' from the index."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from rag.embedding.base import Embedder

RECENT_QUERIES = 256


class ReusingEmbedder:
    """An embedder that asks the model only for texts it has no vector for yet.

    A single text (a question) is remembered, so the answer step reuses the vector the search
    computed; the texts of a batch (the sentences of the retrieved passages) are first looked
    up with `stored`, which returns the vectors the index holds for some of them.
    """

    def __init__(
        self,
        embedder: Embedder,
        stored: Callable[[Sequence[str], int], dict[str, np.ndarray]],
        recent: int = RECENT_QUERIES,
    ) -> None:
        self.inner = embedder
        self.name = embedder.name
        self._stored = stored
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._capacity = recent
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        """The backend of the embedder that does the work."""
        return str(getattr(self.inner, "backend", "custom"))

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of the texts; only those neither remembered nor stored are embedded."""
        found = self._remembered(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in found]
        if len(missing) > 1:
            found |= self._stored(missing, self.dimension)
            missing = [text for text in missing if text not in found]
        if missing:
            found |= dict(zip(missing, self.inner.embed(missing), strict=True))
            if len(texts) == 1:
                self._remember(texts[0], found[texts[0]])
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([found[text] for text in texts]).astype(np.float32, copy=False)

    def _remembered(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {text: self._recent[text] for text in texts if text in self._recent}
            for text in found:
                self._recent.move_to_end(text)
        return found

    def _remember(self, text: str, vector: np.ndarray) -> None:
        with self._lock:
            self._recent[text] = vector
            while len(self._recent) > self._capacity:
                self._recent.popitem(last=False)
