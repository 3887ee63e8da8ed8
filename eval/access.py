"""python -m eval.access: permission-filtered dense search against unfiltered search, measured.

An index of DOCUMENTS x CHUNKS chunks whose vectors are drawn around cluster centres (synthetic,
384 numbers like all-MiniLM-L6-v2; each chunk's cluster is named in its text, and the embedder
below draws its vector from it), above the approximate threshold so FAISS holds inverted lists.
A share of the documents (1%, 50%, 99%) is forbidden to the reader by a document rule. For each
share: recall@10 of the reader's filtered search against the exact top 10 of the readable
chunks, beside the recall of an approximate index built over the readable chunks alone (the
"index without the forbidden documents"), and single-query p50 of filtered and unfiltered
search through `KnowledgeBase.search` (embedding, FAISS, SQLite records).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import rag
from rag.access import Actor, CollectionRule, DocumentRule
from rag.storage import build_vector_index

DIMENSION = 384
CLUSTERS = 64
DOCUMENTS = 2000
CHUNKS = 20
APPROXIMATE_ABOVE = 20_000
SHARES = (0.01, 0.5, 0.99)
QUERIES = 100
SPREAD = 0.35  # of a unit centre: chunks of one cluster are close, not identical
WORDS = [
    f"{stem}{suffix}" for stem in ("ta", "re", "mo", "ki", "lu", "so", "ne", "vi") for suffix in range(50)
]


class ClusterEmbedder:
    """A vector near the centre of the cluster a text names (`clusterN`), jittered by the text."""

    name = "clustered-384"
    backend = "synthetic"

    def __init__(self, seed: int = 0) -> None:
        generator = np.random.default_rng(seed)
        centres = generator.standard_normal((CLUSTERS, DIMENSION)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return DIMENSION

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text."""
        vectors = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            marker = text.find("cluster")
            digits = text[marker + 7 : marker + 9].strip(" .") if marker >= 0 else ""
            cluster = int(digits) % CLUSTERS if digits.isdigit() else 0
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            noise = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
            vector = self.centres[cluster] + SPREAD * noise / np.sqrt(DIMENSION) * 4
            vectors[row] = vector / np.linalg.norm(vector)
        return vectors


def documents(chooser: random.Random) -> list[rag.TextItem]:
    """DOCUMENTS texts of CHUNKS paragraphs; each paragraph names its cluster."""
    items = []
    for number in range(DOCUMENTS):
        paragraphs = []
        for part in range(CHUNKS):
            cluster = chooser.randrange(CLUSTERS)
            words = " ".join(chooser.choice(WORDS) for _ in range(110))
            paragraphs.append(f"Document {number} part {part} cluster{cluster:02d}. {words}.")
        items.append(rag.TextItem(f"docs/{number:05d}.txt", "\n\n".join(paragraphs)))
    return items


def forbidden_rule(share: float) -> CollectionRule:
    """A rule forbidding the first share of the documents (by number) to the group `readers`:
    one glob per ten documents (`docs/0012?.txt`), as a folder's rule would be."""
    cut = round(DOCUMENTS * share)
    rules = tuple(
        DocumentRule(f"docs/{tens:04d}?.txt", frozenset({"forbidden"})) for tens in range(cut // 10)
    )
    return CollectionRule(read=frozenset({"readers"}), documents=rules)


def median_ms(base: rag.KnowledgeBase, queries: Sequence[str]) -> float:
    timings = []
    for query in queries:
        start = time.perf_counter()
        base.search(query, k=10, mode="dense")
        timings.append((time.perf_counter() - start) * 1000)
    return round(float(np.median(timings)), 3)


def measure(
    base: rag.KnowledgeBase, embedder: ClusterEmbedder, share: float, queries: list[str]
) -> dict[str, Any]:
    ids, vectors = (np.concatenate(parts) for parts in zip(*base.stored_vectors(), strict=True))
    sources = {info.source: info for info in base.documents()}
    cut = round(DOCUMENTS * share)
    # Chunk ids are given in order, CHUNKS per document, to a fresh index.
    readable = ids > cut * CHUNKS
    assert len(sources) == DOCUMENTS and len(ids) == DOCUMENTS * CHUNKS
    query_vectors = embedder.embed(queries)
    truth_rows = np.argsort(-(query_vectors @ vectors[readable].T), axis=1)[:, :10]
    truth = ids[readable][truth_rows]
    view = base.for_reader(Actor("reader", frozenset({"readers"}), "person"), forbidden_rule(share))
    started = time.perf_counter()
    view.search(queries[0], k=10, mode="dense")  # the scope is found once per generation
    scope_ms = round((time.perf_counter() - started) * 1000, 1)
    found = [[p.chunk_id for p in view.search(query, k=10, mode="dense")] for query in queries]
    assert all(chunk > cut * CHUNKS for row in found for chunk in row), "a forbidden chunk was found"
    filtered = _recall(found, truth)
    alone = build_vector_index(
        vectors[readable], APPROXIMATE_ABOVE, probe_queries=query_vectors[: len(queries) // 2]
    )
    alone_rows = alone.search(query_vectors, 10)[1]
    alone_found = [[int(ids[readable][row]) for row in rows if row >= 0] for rows in alone_rows]
    return {
        "forbidden_share": share,
        "readable_chunks": int(readable.sum()),
        "recall@10_filtered": filtered,
        "recall@10_index_of_readable_only": _recall(alone_found, truth),
        "index_of_readable_only_kind": alone.info.kind,
        "p50_ms_filtered": median_ms(view, queries),
        "p50_ms_unfiltered": median_ms(base, queries),
        "first_search_ms_finding_the_scope": scope_ms,
    }


def _recall(found: list[list[int]], truth: np.ndarray) -> float:
    hits = sum(len(set(got) & set(want.tolist())) for got, want in zip(found, truth, strict=True))
    return round(hits / truth.size, 4)


def run(work: Path) -> dict[str, Any]:
    chooser = random.Random(7)
    embedder = ClusterEmbedder()
    settings = rag.Settings.from_env(approximate_above=APPROXIMATE_ABOVE)
    started = time.perf_counter()
    with rag.open(work / "index", settings, embedder) as base:
        base.add_texts(documents(chooser))
        built_s = round(time.perf_counter() - started, 1)
        queries = [f"question {n} cluster{chooser.randrange(CLUSTERS):02d}" for n in range(QUERIES)]
        rows = [measure(base, embedder, share, queries) for share in SHARES]
        kind = base.stats()["vector_index"]
    return {"chunks": DOCUMENTS * CHUNKS, "vector_index": kind, "ingest_seconds": built_s, "results": rows}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its results as JSON."""
    parser = argparse.ArgumentParser(prog="python -m eval.access", description=__doc__)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="verbatim-access-") as work:
        results = run(Path(work))
    text = json.dumps(results, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
