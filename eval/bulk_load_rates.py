"""Ingest and copy rates into PostgreSQL against an index folder, this code and another version
alternately (each command a fresh `rag` process, each database write into a fresh schema).

    git archive COMMIT | tar -x -C /tmp/old     # the version to compare with
    python -m eval.bulk_load_rates --corpus FOLDER --old-code /tmp/old --rounds 2

Per round: `rag ingest CORPUS` into a new folder, into PostgreSQL with each version (the order
alternates between rounds), then each --add folder ingested into the index just filled (writes
into an index that holds chunks, which no bulk load speeds up), `rag copy` of a folder index of CORPUS into PostgreSQL with each
version, and the folder copied into another folder and a database copied back into a folder (the
SQLite side of a copy). The hashing embedder by default, so the store is what is timed. The
database is --postgres (a schema is made for each write) or the bundled server. Prints one JSON
line per measurement, with the load average when it started.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from eval.engines import database

ROOT = Path(__file__).resolve().parents[1]


def _schema(server: str) -> tuple[str, str]:
    import psycopg

    name = f"rates_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {name}")
    return f"{server}{'&' if '?' in server else '?'}options=-csearch_path%3D{name},public", name


def _drop(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {name} CASCADE")


def _rag(code: Path, *args: str) -> tuple[float, dict]:
    """Seconds and JSON report of one `rag` command run with the code in `code`."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli.main", *args, "--json"],
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"rag {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - started, json.loads(done.stdout)


def _row(round_number: int, what: str, engine: str, seconds: float, chunks: int, load: float) -> dict:
    row = {
        "round": round_number,
        "what": what,
        "engine": engine,
        "seconds": round(seconds, 1),
        "chunks": chunks,
        "chunks_per_second": round(chunks / seconds, 1),
        "load": round(load, 1),
    }
    print(json.dumps(row), flush=True)
    return row


def _ingest(
    round_number: int, engine: str, code: Path, corpus: list[Path], index: str, model: str
) -> list[dict]:
    """Ingest the first corpus into a new index and time it; then each further one into the index
    it filled (writes into an index that holds chunks: no bulk load), timed as `add`."""
    rows = []
    for step, folder in enumerate(corpus):
        load = os.getloadavg()[0]
        seconds, report = _rag(code, "ingest", str(folder), "--index", index, "--model", model)
        what = "ingest" if step == 0 else "add to a filled index"
        rows.append(_row(round_number, what, engine, seconds, report["chunks_embedded"], load))
    return rows


def measure_round(
    round_number: int, corpus: list[Path], versions: dict[str, Path], server: str, work: Path, model: str
) -> list[dict]:
    """One round: ingests, then copies, each version in this round's order."""
    order = list(versions) if round_number % 2 == 0 else list(reversed(versions))
    source, folder = work / "source", work / "folder"
    shutil.rmtree(folder, ignore_errors=True)
    rows = _ingest(round_number, "folder", versions["new"], corpus, str(folder), model)
    for version in order:
        url, name = _schema(server)
        rows += _ingest(round_number, f"postgres {version}", versions[version], corpus, url, model)
        _drop(server, name)
    for version in order:
        url, name = _schema(server)
        load = os.getloadavg()[0]
        seconds, report = _rag(versions[version], "copy", str(source), url)
        rows.append(
            _row(round_number, "copy", f"folder -> postgres {version}", seconds, report["chunks"], load)
        )
        if version == "new":
            shutil.rmtree(folder, ignore_errors=True)
            load = os.getloadavg()[0]
            seconds, report = _rag(versions["new"], "copy", url, str(folder))
            rows.append(_row(round_number, "copy", "postgres -> folder", seconds, report["chunks"], load))
        _drop(server, name)
    shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()[0]
    seconds, report = _rag(versions["new"], "copy", str(source), str(folder))
    rows.append(_row(round_number, "copy", "folder -> folder", seconds, report["chunks"], load))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Measure and print every row, then all of them as one JSON list."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of files to ingest")
    parser.add_argument(
        "--add",
        type=Path,
        action="append",
        default=[],
        help="a folder then ingested into the filled index (repeatable)",
    )
    parser.add_argument("--old-code", type=Path, required=True, help="a checkout of the version to compare")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--first-round", type=int, default=0, help="0 starts with this code, 1 with the old")
    parser.add_argument("--model", default="hashing-384")
    parser.add_argument("--postgres", default=None, help="a database (default: start the bundled one)")
    args = parser.parse_args(argv)
    versions = {"new": ROOT, "old": args.old_code}
    with tempfile.TemporaryDirectory() as folder, database(args.postgres) as server:
        work = Path(folder)
        _rag(ROOT, "ingest", str(args.corpus), "--index", str(work / "source"), "--model", args.model)
        rows = []
        for round_number in range(args.first_round, args.first_round + args.rounds):
            rows += measure_round(round_number, [args.corpus, *args.add], versions, server, work, args.model)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
