"""The torch backend: any sentence-transformers model by name or folder, loaded lazily, on the CPU."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.base import BUNDLED_NAMES, bundled_model_path
from rag.errors import ModelLoadError
from rag.settings import DEFAULT_MODEL
from rag.terms import without_surrogates


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, loaded lazily, on the CPU."""

    backend = "torch"

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = load_sentence_transformer(self.name)
        return self._model

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return unit vectors; sentence-transformers sorts by length so padding is small."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            [without_surrogates(text) for text in texts],  # the tokenizer raises TypeError on them
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_sentence_transformer(name: str, eager_attention: bool = False) -> Any:
    """The SentenceTransformer of a name or folder; eager attention is what the ONNX export traces."""
    location = str(bundled_model_path()) if name in BUNDLED_NAMES else name
    if not Path(location).exists():
        # Not a local folder: only a model already in the local cache can load offline.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The per-load "Loading weights" bar is noise in a CLI; read when transformers is imported.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    model_kwargs = {"attn_implementation": "eager"} if eager_attention else None
    try:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(location, device="cpu", model_kwargs=model_kwargs)
    except Exception as error:
        raise ModelLoadError(
            f"could not load embedding model {name!r}: {error}. Give a local model folder "
            "or a model name already in the Hugging Face cache (there is no network)."
        ) from error
