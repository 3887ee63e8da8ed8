"""python -m eval.parse_cost: what bounding the parsers costs, and how HTML extraction scales.

Prints the time per file of loading small files in-process and in the bounded child
(rag.ingest.load_bytes with and without ParseLimits), and the time and peak memory of extracting a
generated HTML page of --html-mb megabytes in a bounded child.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rag.ingest import ParseLimits, load_bytes

WORDS = "the river valley floods every spring and the harbour ships cloves to the island market".split()


def html_page(megabytes: float, seed: int = 1) -> bytes:
    """A page of sections, paragraphs, links, tables and lists, like a long generated report."""
    chooser = random.Random(seed)
    parts = ["<html><head><title>Big page</title><style>p{}</style></head><body>"]
    size, number = 0, 0
    while size < megabytes * 1024 * 1024:
        words = " ".join(chooser.choice(WORDS) for _ in range(40))
        part = (
            f"<div class='c{number % 7}'><h2>Section {number}</h2><p>{words} <a href='#x{number}'>link</a>"
            f" <b>bold</b> <i>it</i>.</p><table><tr><td>{number}</td><td>{words[:50]}</td></tr></table>"
            f"<ul><li>{words[:30]}</li><li>two</li></ul></div>\n"
        )
        parts.append(part)
        size += len(part)
        number += 1
    return ("".join(parts) + "</body></html>").encode()


def per_file_seconds(name: str, data: bytes, limits: ParseLimits | None, repeats: int) -> float:
    """Mean seconds of one load_bytes call."""
    load_bytes(name, data, limits=limits)  # the helper process starts on first use
    started = time.perf_counter()
    for _ in range(repeats):
        load_bytes(name, data, limits=limits)
    return (time.perf_counter() - started) / repeats


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(prog="python -m eval.parse_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--html-mb", type=float, default=23.0)
    args = parser.parse_args(argv)
    limits = ParseLimits()
    for name, data in (("small.html", html_page(0.01)), ("page.html", html_page(0.2))):
        inside = per_file_seconds(name, data, None, args.repeats)
        bounded = per_file_seconds(name, data, limits, args.repeats)
        print(
            f"{name} ({len(data) / 1024:.0f} KB): in-process {inside * 1000:.1f} ms, bounded child"
            f" {bounded * 1000:.1f} ms per file (+{(bounded - inside) * 1000:.1f} ms)"
        )
    big = html_page(args.html_mb)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.html"
        path.write_bytes(big)
        print(extraction_cost(path))
    return 0


def extraction_cost(path: Path) -> str:
    """Seconds and peak memory of extracting one HTML file, in a process of its own."""
    code = (
        "import sys, time; from rag.ingest import load_bytes; data = open(sys.argv[1], 'rb').read(); "
        "started = time.perf_counter(); "
        "text = load_bytes('big.html', data).text; "
        "print(len(text), round(time.perf_counter() - started, 1))"
    )
    run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    characters, seconds = run.stdout.split()
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return (
        f"{path.stat().st_size / 2**20:.1f} MB HTML -> {int(characters):,} characters in {seconds} s,"
        f" peak memory {peak_mb:.0f} MB (the whole process)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
