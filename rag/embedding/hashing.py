"""The test embedder: hashed bag-of-words vectors, deterministic and model-free."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from rag.embedding.languages import ALL_LANGUAGES

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Deterministic bag-of-words vectors from hashed tokens: fast, no model, for tests."""

    backend = "hashing"

    def __init__(self, dimension: int = 256, languages: frozenset[str] = ALL_LANGUAGES) -> None:
        self.name = f"hashing-{dimension}"
        self._dimension = dimension
        self.languages = languages  # hashed words work in any language written with spaces

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return one normalised hashed token-count vector per text."""
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                vectors[row, int.from_bytes(digest[:4], "little") % self._dimension] += 1.0
            norm = float(np.linalg.norm(vectors[row]))
            if norm > 0:
                vectors[row] /= norm
            else:
                vectors[row, 0] = 1.0
        return vectors
