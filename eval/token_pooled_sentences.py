"""python -m eval.token_pooled_sentences SRC DST: a copy of an index whose sentence vectors are
pooled from its chunks' token vectors.

Ingest embeds every chunk and, apart, every sentence answers may quote: the model reads each
text about twice. One forward pass per chunk would do, if a sentence's vector could be the mean
of the chunk's token vectors inside the sentence's characters. This measures what that would
cost in answers before any ingest is changed: it copies an index folder, runs every chunk's
search text through the model once more (in batches of 256 chunks, as ingest does), and
replaces the stored vector of each sentence that one chunk holds whole, within the model's
length, by its token-pooled vector; sentences no chunk holds whole keep their own vector, as
ingest would embed them apart. Then evaluate the copy like the original, e.g.
`python -m eval xquad --index DST` beside `python -m eval xquad --index SRC`.
`python -m eval.token_pooled_sentences SRC --time N` copies nothing: it times the model's work
on the index's texts both ways, N rounds alternating in one process (chunks, then sentences
apart, as ingest does today; chunks once with their sentences pooled, plus the sentences no
chunk holds whole).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

import rag
from eval.pooled_chunks import copy_index_folder
from rag.evaluation import split_sentences
from rag.storage import sentence_text_hash

BATCH_CHUNKS = 256  # rag/ingest/pipeline.py EMBED_BATCH_CHUNKS: the same batches give the same vectors


class SpanEmbedder(Protocol):
    """The ONNX embedder: texts' vectors, and their spans' pooled token vectors from the same pass."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of the texts."""
        ...

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Unit vectors of the texts and of each character span's tokens."""
        ...


def onnx_embedder(model: str) -> SpanEmbedder:
    """The model on the ONNX backend, whose token vectors are at hand."""
    embedder: SpanEmbedder = rag.make_embedder(model, backend="onnx")
    return embedder


@dataclass
class Counts:
    """What a pooling run did."""

    chunks: int = 0
    pooled: int = 0  # sentences given a token-pooled vector
    apart: int = 0  # sentences no chunk holds whole within the model's length: kept as embedded
    other: int = 0  # stored vectors of no sentence split (table rows): kept
    chunk_cosines: list[float] = field(default_factory=list)  # recomputed chunk vector vs stored
    sentence_cosines: list[float] = field(default_factory=list)  # pooled vs stored sentence vector


@dataclass
class Pending:
    """Chunks waiting for one forward pass, with the sentence spans each should pool."""

    texts: list[str] = field(default_factory=list)
    stored: list[np.ndarray] = field(default_factory=list)
    spans: list[list[tuple[int, int]]] = field(default_factory=list)
    owners: list[list[tuple[int, int]]] = field(default_factory=list)  # (document key, text hash)


def pool(source: Path, target: Path, model: str = rag.DEFAULT_MODEL) -> Counts:
    """Copy the index folder and replace its sentence vectors by token-pooled ones."""
    copy_index_folder(source, target)
    embedder = onnx_embedder(model)
    counts = Counts()
    pending = Pending()
    with sqlite3.connect(target / "rag.sqlite") as database:
        documents = database.execute("SELECT key, text FROM documents ORDER BY key").fetchall()
        for number, (key, text) in enumerate(documents, 1):
            _queue_document(database, key, text, pending, counts)
            if len(pending.texts) >= BATCH_CHUNKS or number == len(documents):
                _run(database, embedder, pending, counts)
                pending = Pending()
                print(f"\r{number}/{len(documents)} documents", end="", file=sys.stderr)
    print(file=sys.stderr)
    return counts


def _queue_document(
    database: sqlite3.Connection, key: int, text: str, pending: Pending, counts: Counts
) -> None:
    """Add the document's chunks to the pass, each with the stored sentences it holds whole first."""
    stored = {
        text_hash
        for (text_hash,) in database.execute(
            "SELECT text_hash FROM sentence_vectors WHERE document_key = ?", (key,)
        )
    }
    chunks = database.execute(
        "SELECT start, end, search_text, vector FROM chunks WHERE document_key = ? ORDER BY start", (key,)
    ).fetchall()
    first = len(pending.texts)
    for start, end, search_text, vector in chunks:
        searched = search_text or text[start:end]
        pending.texts.append(searched)
        pending.stored.append(np.frombuffer(vector, dtype=np.float32))
        pending.spans.append([])
        pending.owners.append([])
    done: set[int] = set()
    for sentence in split_sentences(text):
        text_hash = sentence_text_hash(sentence.text)
        if text_hash not in stored or text_hash in done:
            continue
        done.add(text_hash)
        for row, (start, end, _, _) in enumerate(chunks, first):
            searched = pending.texts[row]
            prefix = len(searched) - (end - start)
            if start <= sentence.start and sentence.end <= end and searched.endswith(text[start:end]):
                pending.spans[row].append((prefix + sentence.start - start, prefix + sentence.end - start))
                pending.owners[row].append((key, text_hash))
                break
        else:
            counts.apart += 1
    counts.other += len(stored - done)


def _run(database: sqlite3.Connection, embedder: SpanEmbedder, pending: Pending, counts: Counts) -> None:
    """One forward pass over the pending chunks; write the pooled sentence vectors."""
    updates = []
    for begin in range(0, len(pending.texts), BATCH_CHUNKS):
        window = slice(begin, begin + BATCH_CHUNKS)
        vectors, pooled = embedder.embed_with_spans(pending.texts[window], pending.spans[window])
        for vector, stored in zip(vectors, pending.stored[window], strict=True):
            counts.chunk_cosines.append(float(vector @ stored / np.linalg.norm(stored)))
        for owners, sentence_vectors in zip(pending.owners[window], pooled, strict=True):
            for (key, text_hash), sentence_vector in zip(owners, sentence_vectors, strict=True):
                if sentence_vector is None:
                    counts.apart += 1
                    continue
                old = database.execute(
                    "SELECT vector FROM sentence_vectors WHERE document_key = ? AND text_hash = ?",
                    (key, text_hash),
                ).fetchone()[0]
                old_vector = np.frombuffer(old, dtype=np.float16).astype(np.float32)
                counts.sentence_cosines.append(
                    float(old_vector @ sentence_vector / max(float(np.linalg.norm(old_vector)), 1e-12))
                )
                updates.append((sentence_vector.astype(np.float16).tobytes(), key, text_hash))
                counts.pooled += 1
    counts.chunks += len(pending.texts)
    database.executemany(
        "UPDATE sentence_vectors SET vector = ? WHERE document_key = ? AND text_hash = ?", updates
    )


def timing(source: Path, rounds: int, model: str = rag.DEFAULT_MODEL) -> dict[str, list[float]]:
    """Seconds of model work per round: chunks and sentences apart, and one pass with pooling."""
    embedder = onnx_embedder(model)
    counts = Counts()
    pending = Pending()
    with sqlite3.connect(f"file:{source / 'rag.sqlite'}?mode=ro", uri=True) as database:
        for key, text in database.execute("SELECT key, text FROM documents ORDER BY key").fetchall():
            _queue_document(database, key, text, pending, counts)
        sentences = [
            sentence.text
            for (text,) in database.execute("SELECT text FROM documents ORDER BY key")
            for sentence in split_sentences(text)
        ]
    sentences = list(dict.fromkeys(sentences))
    # A first pass (which also loads the session and the tokenizer) finds the sentences cut off
    # at the model's length; they and those no chunk holds whole are embedded apart. Which ones
    # is not kept: the longest that many, so that the estimate errs high.
    cut_off = sum(
        vector is None
        for begin in range(0, len(pending.texts), BATCH_CHUNKS)
        for pooled in embedder.embed_with_spans(
            pending.texts[begin : begin + BATCH_CHUNKS], pending.spans[begin : begin + BATCH_CHUNKS]
        )[1]
        for vector in pooled
    )
    apart = sorted(sentences, key=len, reverse=True)[: counts.apart + cut_off]
    seconds: dict[str, list[float]] = {"apart": [], "pooled": []}
    for _ in range(rounds):
        started = time.perf_counter()
        for begin in range(0, len(pending.texts), BATCH_CHUNKS):
            embedder.embed(pending.texts[begin : begin + BATCH_CHUNKS])
        embedder.embed(sentences)
        seconds["apart"].append(time.perf_counter() - started)
        started = time.perf_counter()
        for begin in range(0, len(pending.texts), BATCH_CHUNKS):
            window = slice(begin, begin + BATCH_CHUNKS)
            embedder.embed_with_spans(pending.texts[window], pending.spans[window])
        embedder.embed(apart)
        seconds["pooled"].append(time.perf_counter() - started)
    print(
        f"{len(pending.texts)} chunks, {len(sentences)} sentences, {len(apart)} of them apart",
        file=sys.stderr,
    )
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.token_pooled_sentences", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("source", type=Path, help="an index folder built with the model (ONNX backend)")
    parser.add_argument("target", type=Path, nargs="?", help="a new folder for the copy")
    parser.add_argument("--model", default=rag.DEFAULT_MODEL, help="the index's embedding model")
    parser.add_argument("--time", type=int, default=0, metavar="ROUNDS", help="time both ways instead")
    args = parser.parse_args(argv)
    if args.time:
        seconds = timing(args.source, args.time, args.model)
        load = os.getloadavg()
        for way, values in seconds.items():
            print(f"{way}: {' '.join(f'{value:.2f}' for value in values)} s (median {np.median(values):.2f})")
        print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        return 0
    if args.target is None:
        parser.error("give a target folder for the copy, or --time ROUNDS")
    started = time.perf_counter()
    counts = pool(args.source, args.target, args.model)
    chunk_cosines = np.array(counts.chunk_cosines or [1.0])
    sentence_cosines = np.array(counts.sentence_cosines or [1.0])
    print(
        f"{counts.chunks} chunks run once ({time.perf_counter() - started:.1f} s): {counts.pooled} sentence "
        f"vectors token-pooled, {counts.apart} kept (no chunk holds them whole within the model's length), "
        f"{counts.other} other vectors kept\n"
        f"chunk vector vs stored: min cosine {chunk_cosines.min():.6f}, mean {chunk_cosines.mean():.6f}\n"
        f"pooled sentence vs stored: min cosine {sentence_cosines.min():.3f}, "
        f"mean {sentence_cosines.mean():.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
