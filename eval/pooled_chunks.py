"""python -m eval.pooled_chunks SRC DST: a copy of an index whose chunk vectors are pooled from its sentences.

Ingest embeds every chunk and, apart, every sentence answers may quote: the model reads each
text about twice. Deriving a chunk's vector from the sentence vectors already stored would halve
that work. This measures what it would cost in retrieval before any ingest is changed: it copies
an index folder and replaces each chunk's vector by the mean of the vectors of the sentences it
overlaps, each weighted by the characters it shares with the chunk, plus the chunk's header
(the title the chunk is embedded under) weighted by its length; the header is the only text
embedded again. Then evaluate the copy like the original, e.g.
`python -m eval scifact --index DST` beside `python -m eval scifact --index SRC`.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import rag
from rag.evaluation import split_sentences
from rag.storage import sentence_text_hash

DERIVED = ("vectors.faiss", "vectors.json", ".eval-complete", ".write.lock")


def copy_index_folder(source: Path, target: Path) -> None:
    """Copy an index folder's database (its write-ahead log folded in first) to a new folder,
    leaving out what is derived from it; SystemExit with a one-line error for a bad folder."""
    if not (source / "rag.sqlite").is_file():
        raise SystemExit(f"error: {source} is not an index folder (no rag.sqlite)")
    if target.exists():
        raise SystemExit(f"error: {target} exists; give a new folder")
    with sqlite3.connect(source / "rag.sqlite") as original:
        original.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*DERIVED, "rag.sqlite-*"))


def pool(source: Path, target: Path, model: str = rag.DEFAULT_MODEL) -> dict[str, int]:
    """Copy the index folder and pool its chunk vectors; counts of what was done."""
    copy_index_folder(source, target)
    embedder = rag.make_embedder(model)
    headers: dict[str, np.ndarray] = {}
    counts = {"chunks": 0, "sentences": 0, "missing": 0, "headers": 0}
    with sqlite3.connect(target / "rag.sqlite") as database:
        documents = database.execute("SELECT key, text FROM documents").fetchall()
        for number, (key, text) in enumerate(documents, 1):
            stored = {
                text_hash: np.frombuffer(blob, dtype=np.float16).astype(np.float32)
                for text_hash, blob in database.execute(
                    "SELECT text_hash, vector FROM sentence_vectors WHERE document_key = ?", (key,)
                )
            }
            sentences = [(span, stored.get(sentence_text_hash(span.text))) for span in split_sentences(text)]
            chunks = database.execute(
                "SELECT id, start, end, search_text FROM chunks WHERE document_key = ?", (key,)
            ).fetchall()
            updates = []
            for chunk_id, start, end, search_text in chunks:
                total, weight = None, 0.0
                for span, vector in sentences:
                    shared = min(end, span.end) - max(start, span.start)
                    if shared <= 0:
                        continue
                    if vector is None:
                        counts["missing"] += 1
                        continue
                    total = vector * shared if total is None else total + vector * shared
                    weight += shared
                    counts["sentences"] += 1
                header = _header(search_text, text[start:end])
                if header:
                    if header not in headers:
                        headers[header] = embedder.embed([header])[0]
                        counts["headers"] += 1
                    total = (
                        headers[header] * len(header)
                        if total is None
                        else total + headers[header] * len(header)
                    )
                if total is None:  # no stored sentence overlaps it (a table row, an empty chunk)
                    total = embedder.embed([search_text or text[start:end]])[0]
                updates.append(((total / np.linalg.norm(total)).astype(np.float32).tobytes(), chunk_id))
            database.executemany("UPDATE chunks SET vector = ? WHERE id = ?", updates)
            counts["chunks"] += len(updates)
            if number % 500 == 0 or number == len(documents):
                print(
                    f"\r{number}/{len(documents)} documents, {counts['chunks']} chunks",
                    end="",
                    file=sys.stderr,
                )
    print(file=sys.stderr)
    return counts


def _header(search_text: str | None, chunk_text: str) -> str:
    """What the chunk is embedded under besides its own text (its title), or ''."""
    if not search_text or not search_text.endswith(chunk_text):
        return ""
    return search_text[: len(search_text) - len(chunk_text)].strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.pooled_chunks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("source", type=Path, help="an index folder built with the model")
    parser.add_argument("target", type=Path, help="a new folder for the copy")
    parser.add_argument(
        "--model", default=rag.DEFAULT_MODEL, help="the index's embedding model (for headers)"
    )
    args = parser.parse_args(argv)
    counts = pool(args.source, args.target, args.model)
    print(
        f"{counts['chunks']} chunk vectors pooled from {counts['sentences']} sentence vectors and "
        f"{counts['headers']} headers embedded; {counts['missing']} overlapping sentences had no stored vector"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
