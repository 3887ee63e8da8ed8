"""The torch backend: sentence-transformers models run with torch, and traced to ONNX for the other.

Everything in rag/embedding/ that touches torch is here.
"""

from __future__ import annotations

import inspect
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.base import BUNDLED_NAMES, bundled_model_path
from rag.embedding.languages import model_languages
from rag.embedding.layout import TORCH_ADVICE, OnnxUnsupportedError
from rag.errors import ModelLoadError
from rag.settings import DEFAULT_MODEL
from rag.terms import without_surrogates


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path, loaded lazily, on the CPU."""

    backend = "torch"

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64, threads: int | None = None) -> None:
        self.name = name
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self._model: Any = None
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = load_sentence_transformer(self.name)
        return self._model

    @property
    def languages(self) -> frozenset[str]:
        """The languages the model's card lists (ALL_LANGUAGES for 'multilingual'); English when unknown."""
        return model_languages(self.name)

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
        model = self._load()
        import torch

        # One thread for a single question: on two busy cores, two torch threads took 3.1 s for
        # one query (they spin-wait for each other), one thread tens of ms. Batches get them all.
        with self._run_lock:
            previous = torch.get_num_threads()
            torch.set_num_threads(1 if len(texts) == 1 else self.threads)
            try:
                vectors = model.encode(
                    [without_surrogates(text) for text in texts],  # the tokenizer refuses them
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            finally:
                torch.set_num_threads(previous)
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


class CrossEncoderScorer:
    """A sentence-transformers CrossEncoder that scores (query, passage) pairs; loaded on first use."""

    def __init__(self, name: str, batch_size: int = 32) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                if not Path(self.name).exists():
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # only a cached model loads offline
                try:
                    from sentence_transformers import CrossEncoder

                    self._model = CrossEncoder(self.name, device="cpu")
                except Exception as error:
                    raise ModelLoadError(
                        f"could not load reranker {self.name!r}: {error}. Give a local CrossEncoder "
                        "folder or a model name already in the Hugging Face cache (there is no network)."
                    ) from error
            return self._model

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One relevance score per text for the query; higher is more relevant."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        model = self._load()
        pairs = [(without_surrogates(query), without_surrogates(text)) for text in texts]
        scores = model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return np.asarray(scores, dtype=np.float32).reshape(len(texts), -1)[:, -1]


def trace_to_onnx(model_path: Path, destination: Path) -> list[str]:
    """Trace the model's transformer to an fp32 ONNX graph with dynamic batch and length axes.

    Returns the graph's input names. Pooling and normalisation are left to the ONNX backend.
    """
    try:
        import torch
    except ImportError as error:
        raise OnnxUnsupportedError(
            "the one-time ONNX export needs torch: pip install torch==2.13.0, or " + TORCH_ADVICE
        ) from error
    model = load_sentence_transformer(str(model_path), eager_attention=True)[0].auto_model.eval()
    config = model.config
    accepts_token_types = "token_type_ids" in inspect.signature(model.forward).parameters
    uses_token_types = accepts_token_types and bool(getattr(config, "type_vocab_size", 0))
    input_names = ["input_ids", "attention_mask"] + (["token_type_ids"] if uses_token_types else [])

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            return self.model(**dict(zip(input_names, inputs, strict=True))).last_hidden_state

    input_ids = torch.full((2, 16), 1000, dtype=torch.long)
    attention_mask = torch.ones((2, 16), dtype=torch.long)
    attention_mask[1, 9:] = 0  # a padded row, so the traced graph keeps the masking path
    example = (input_ids, attention_mask, torch.zeros_like(input_ids))[: len(input_names)]
    axes = {name: {0: "batch", 1: "sequence"} for name in [*input_names, "last_hidden_state"]}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(),
                example,
                str(destination),
                input_names=input_names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,  # the TorchScript exporter: 1.2 s vs 5.3 s for dynamo, same vectors
            )
    except Exception as error:
        raise OnnxUnsupportedError(
            f"torch.onnx cannot export model type {getattr(config, 'model_type', '?')!r} ({error}): "
            + TORCH_ADVICE
        ) from error
    return input_names
