"""The ONNX Runtime backend: the model's exported int8 graph and its fast tokenizer, without torch."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.languages import model_languages
from rag.embedding.layout import TORCH_ADVICE, ModelLayout, OnnxUnsupportedError, read_json
from rag.terms import without_surrogates

# Texts of similar length share a batch, and a batch holds at most this many tokens (padding
# included): ONNX Runtime's memory grows with batch x length, and 16 full-length chunks of 256
# word pieces kept ingest under 900 MB (docs/performance.md).
MAX_BATCH_TOKENS = 4096


class OnnxEmbedder:
    """Unit-length vectors from an exported ONNX graph: one thread for one text, `threads` for batches."""

    backend = "onnx"

    def __init__(
        self,
        name: str,
        layout: ModelLayout,
        locate_graph: Callable[[], Path],
        threads: int | None = None,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
    ) -> None:
        self.name = name
        self.layout = layout
        self.threads = threads or os.cpu_count() or 1
        self.max_batch_tokens = max_batch_tokens
        self._locate_graph = locate_graph  # exports the model on first use when it is not cached
        self._sessions: dict[int, Any] = {}
        self._tokenizer: Any = None
        self._pad_id = 0
        # One run at a time: a query and an ingest batch never spin two thread pools on the same cores.
        self._lock = threading.Lock()

    @property
    def languages(self) -> frozenset[str]:
        """The languages the model's card lists (ALL_LANGUAGES for 'multilingual'); English when unknown."""
        return model_languages(self.name)

    @property
    def dimension(self) -> int:
        """Length of each vector (the width of the graph's output)."""
        with self._lock:
            session = self._session(1)
        return int(session.get_outputs()[0].shape[-1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dimension) float32 array of unit vectors, in the order given."""
        return self.embed_with_spans(texts, [() for _ in texts])[0]

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """The texts' unit vectors, and for each (start, end) character span of a text the unit
        mean of the token vectors inside it, from the same forward pass.

        A span is None where the text's tokens were cut at the model's length before its end,
        or where no token falls inside it. The texts' vectors are exactly what embed gives.
        """
        span_vectors: list[list[np.ndarray | None]] = [[None] * len(wanted) for wanted in spans]
        with self._lock:
            # A single text is a query: one thread answers it in about a millisecond and leaves
            # the other cores to FAISS and SQLite; batches get all the threads.
            session = self._session(1 if len(texts) == 1 else self.threads)
            width = int(session.get_outputs()[0].shape[-1])
            vectors = np.zeros((len(texts), width), dtype=np.float32)
            if not texts:
                return vectors, span_vectors
            encodings = self._tokenizer.encode_batch(
                [without_surrogates(text) for text in texts]
            )  # tokenizers refuse them
            token_ids = [encoding.ids for encoding in encodings]
            for rows in length_batches([len(ids) for ids in token_ids], self.max_batch_tokens):
                feeds = self._feeds([token_ids[row] for row in rows], session)
                hidden = session.run(None, feeds)[0]
                vectors[rows] = pool(hidden, feeds["attention_mask"], self.layout.pooling)
                for position, row in enumerate(rows):
                    if spans[row]:
                        span_vectors[row] = spans_pooled(hidden[position], encodings[row], spans[row])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12), span_vectors

    def _session(self, threads: int) -> Any:
        if threads not in self._sessions:
            graph = self._locate_graph()
            self._sessions[threads] = _inference_session(graph, threads)
            if self._tokenizer is None:
                self._tokenizer, self._pad_id = _tokenizer(self.layout)
        return self._sessions[threads]

    def _feeds(self, batch: list[list[int]], session: Any) -> dict[str, np.ndarray]:
        longest = max(len(ids) for ids in batch)
        input_ids = np.full((len(batch), longest), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(batch), longest), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        feeds["token_type_ids"] = np.zeros_like(input_ids)
        return {node.name: feeds[node.name] for node in session.get_inputs()}


def length_batches(lengths: Sequence[int], max_tokens: int) -> Iterator[np.ndarray]:
    """Row numbers grouped longest first, each group's count x longest length within max_tokens."""
    order = np.argsort([-length for length in lengths], kind="stable")
    start = 0
    while start < len(order):
        longest = max(1, lengths[order[start]])
        count = max(1, max_tokens // longest)
        yield order[start : start + count]
        start += count


def pool(hidden: np.ndarray, attention_mask: np.ndarray, mode: str) -> np.ndarray:
    """One vector per text from its token vectors, the way the model's Pooling module does it."""
    if mode == "cls":
        return hidden[:, 0]
    mask = attention_mask[..., None].astype(np.float32)
    if mode == "max":
        return np.where(mask > 0, hidden, -1e9).max(axis=1)
    return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)


def spans_pooled(
    hidden: np.ndarray, encoding: Any, spans: Sequence[tuple[int, int]]
) -> list[np.ndarray | None]:
    """The unit mean of one text's token vectors inside each character span (None: none, or cut off)."""
    inside = [mask == 0 for mask in encoding.special_tokens_mask]
    offsets = np.array([offset for offset, kept in zip(encoding.offsets, inside, strict=True) if kept])
    rows = np.flatnonzero(inside)
    reached = int(offsets[-1, 1]) if len(offsets) else 0
    truncated = bool(encoding.overflowing)
    pooled: list[np.ndarray | None] = []
    for start, end in spans:
        if truncated and end > reached:
            pooled.append(None)
            continue
        chosen = rows[(offsets[:, 1] > start) & (offsets[:, 0] < end)] if len(offsets) else rows
        if not len(chosen):
            pooled.append(None)
            continue
        mean = hidden[chosen].mean(axis=0)
        pooled.append((mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32))
    return pooled


def _inference_session(graph: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: the optimizer's notes are not for users
    # Threads that spin while waiting for work steal the cores they wait for on a busy machine:
    # 2 spinning threads embedded 30 chunks/s, 2 sleeping ones 38, with load average 15 on 2 cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    except Exception as error:
        raise OnnxUnsupportedError(
            f"ONNX Runtime cannot load {graph} ({error}): delete {graph.parent} to export the model "
            "again, or " + TORCH_ADVICE
        ) from error


def _tokenizer(layout: ModelLayout) -> tuple[Any, int]:
    """The model's fast tokenizer, truncating like sentence-transformers, and its padding id."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # its own pool would fight ONNX Runtime's
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(layout.transformer_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=layout.max_seq_length)
    padding = tokenizer.padding
    tokenizer.no_padding()  # each batch is padded to its own longest text in _feeds
    if padding:
        return tokenizer, int(padding["pad_id"])
    pad_token = read_json(layout.transformer_dir / "tokenizer_config.json", default={}).get("pad_token")
    pad_id = tokenizer.token_to_id(pad_token) if isinstance(pad_token, str) else None
    return tokenizer, int(pad_id) if pad_id is not None else 0


def save_optimized(source: Path, destination: Path) -> None:
    """Write the graph after ONNX Runtime's portable (extended) optimizations: sessions then start
    in half the time (0.22 s instead of 0.5 s under load), with the same outputs."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(destination)
    options.log_severity_level = 3
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def quantize_int8(source: Path, destination: Path) -> None:
    """Dynamic int8 quantization with per-channel weights (per-tensor lost too much: cosine 0.92)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs advice about pre-processing at WARNING
    try:
        quantize_dynamic(str(source), str(destination), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)
