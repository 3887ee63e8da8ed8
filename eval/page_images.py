"""python -m eval.page_images PDF...: what page positions cost to store, and pages to draw.

Ingests the PDFs into a temporary index (the hashing embedder: no model), then prints for each
one the bytes of page positions per page (the page_boxes blobs), the share of its visible
characters that have a box, and the time to draw each of its first --pages pages at --width
pixels with a 300-character quote highlighted (nothing cached: each quote is another key; each
page drawn in a bounded child process, as the API and the viewer draw it), with the load average.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import rag


def main(argv: Sequence[str] | None = None) -> int:
    """Print one line of storage and one of drawing time per PDF."""
    parser = argparse.ArgumentParser(prog="python -m eval.page_images", description=__doc__.split("\n\n")[0])
    parser.add_argument("pdfs", nargs="+", type=Path)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        rag.open(Path(folder) / "index", embedder=rag.HashingEmbedder(256)) as base,
    ):
        base.ingest([path.resolve() for path in args.pdfs])
        for path in args.pdfs:
            document = base.document(str(path.resolve()))
            stored = page_box_bytes(Path(folder) / "index" / "rag.sqlite", str(path.resolve()))
            pages = len(document.page_starts)
            print(
                f"{path.name}: {pages} pages, {sum(stored):,} bytes of page positions"
                f" = {sum(stored) / max(len(stored), 1):,.0f} bytes a page (largest {max(stored, default=0):,})"
            )
            times = []
            for page, start in list(enumerate(document.page_starts, start=1))[: args.pages]:
                started = time.perf_counter()
                base.page_image(document.id, page, highlight=(start + 50, start + 350), width=args.width)
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"  drawn at {args.width} px with a quote highlighted, {len(times)} pages:"
                f" p50 {statistics.median(times):.0f} ms, max {max(times):.0f} ms"
                f" (load average {os.getloadavg()[0]:.2f})"
            )
    return 0


def page_box_bytes(database: Path, source: str) -> list[int]:
    """The size of each page's stored position blob."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT length(runs) FROM page_boxes JOIN documents ON documents.key = page_boxes.document_key"
            " WHERE documents.source = ?",
            (source,),
        )
        return [int(row[0]) for row in rows]


if __name__ == "__main__":
    raise SystemExit(main())
