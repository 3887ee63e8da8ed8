"""Bulk loads into PostgreSQL: rows first, the HNSW index built after them, and a killed load never
leaving an index that looks complete without its vector index (a real server, pgserver's)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rag
from rag.cli.main import main
from rag.storage import bulk_load
from rag.storage.postgres import PostgresStore

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def searched_by_hnsw(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about pgvector's HNSW index: readers search through it (not the follower)."""
    monkeypatch.setenv("RAG_POSTGRES_VECTORS", "hnsw")


ROOT = Path(__file__).resolve().parents[1]
HASHING = ["--model", "hashing-256"]


def _texts(count: int) -> list[rag.TextItem]:
    return [
        rag.TextItem(
            f"notes/{number}.txt",
            f"Note {number} says the river {number % 7} floods in spring near town {number}. " * 3
            + f"Its second part speaks of mills and orchards {number * 3}.",
        )
        for number in range(count)
    ]


def _folder_index(folder: Path, count: int) -> Path:
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(_texts(count))
    return folder


def _vector_index(url: str) -> tuple[bool, str] | None:
    """(the HNSW index is valid, the bulk-load manifest entry) or None when the index is missing."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('chunks_vector')"
        ).fetchone()
        return None if row is None else (bool(row[0]), bulk_load.unfinished(connection))


def _check(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["check", "--index", url, *HASHING, *extra, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_a_copy_loads_the_rows_without_the_hnsw_index_and_builds_it_after(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _folder_index(tmp_path / "index", 12)
    seen_during_load: list[tuple[bool, str] | None] = []
    built: list[tuple[int, int, str]] = []

    def on_document(done: int, total: int, unit: str) -> None:
        seen_during_load.append(_vector_index(postgres_url))

    report = rag.copy_index(
        source, postgres_url, progress=on_document, index_progress=lambda *step: built.append(step)
    )
    assert report.documents == 12
    assert seen_during_load == [None] * 12  # no HNSW insert while the rows load
    assert built[-1] == (report.chunks, report.chunks, "vectors indexed")
    assert _vector_index(postgres_url) == (True, "")  # built, and the load's entry cleared
    code, found = _check(postgres_url, capsys)
    assert code == 0 and found["healthy"]
    with (
        rag.open(source, embedder=rag.HashingEmbedder(256)) as folder,
        rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as database,
    ):
        assert database.stats()["vector_index"] == "hnsw"
        for question in ("river floods in spring", "mills and orchards 9"):
            # The same cosines (made-up notes alike in words tie, so not always in one order).
            expected = [round(hit.dense_score or 0, 5) for hit in folder.search(question, k=5, mode="dense")]
            found = [round(hit.dense_score or 0, 5) for hit in database.search(question, k=5, mode="dense")]
            assert found == expected


def test_a_copy_killed_midway_is_reported_by_check_and_resumed_to_a_whole_index(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _folder_index(tmp_path / "index", 300)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    copying = subprocess.Popen(
        [sys.executable, "-m", "rag.cli.main", "copy", str(source), postgres_url, "--json"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and copying.poll() is None:
            try:
                if PostgresStore(postgres_url).counts()[0] >= 20:
                    break
            except rag.RagError:
                pass  # the tables are not made yet
            time.sleep(0.02)
        copying.send_signal(signal.SIGKILL)
    finally:
        copying.wait()
    held = PostgresStore(postgres_url).counts()[0]
    assert 0 < held < 300, "the copy was to be killed midway"
    assert _vector_index(postgres_url) is None
    code, found = _check(postgres_url, capsys)
    assert code == 1 and not found["healthy"]
    assert any("left for the end of a load (rag copy from" in problem for problem in found["problems"])
    capsys.readouterr()
    assert main(["stats", "--index", postgres_url, *HASHING]) == 0
    assert "a load left the HNSW index for its end" in capsys.readouterr().out
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as database:
        assert database.stats()["vector_index"] == "exact"  # searches read every vector meanwhile
        assert database.search("river floods in spring", k=3, mode="dense")

    capsys.readouterr()
    assert main(["copy", str(source), postgres_url, "--resume", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["skipped"] == held and report["documents"] == 300 - held
    assert _vector_index(postgres_url) == (True, "")
    assert _check(postgres_url, capsys)[1]["healthy"]


def test_check_repair_builds_the_index_an_abandoned_load_left_out(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(_texts(3))
    loader = PostgresStore(postgres_url)
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.remove("notes/0.txt")
        base.remove("notes/1.txt")
        base.remove("notes/2.txt")
    assert bulk_load.start(loader, "rag ingest")  # no chunk left: the load drops the index
    loader.close()  # the loading process dies: its lock goes, the manifest entry stays
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(_texts(5)[3:])  # a later ingest takes the load over and builds the index
    assert _vector_index(postgres_url) == (True, "")

    assert bulk_load.start(loader, "rag ingest") is False  # chunks exist: the index stays
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.remove("notes/3.txt")
        base.remove("notes/4.txt")
    assert bulk_load.start(loader, "rag copy from elsewhere")
    loader.close()
    code, found = _check(postgres_url, capsys)
    assert code == 1 and "rag copy from elsewhere" in " ".join(found["problems"])
    assert _check(postgres_url, capsys, "--repair")[0] == 0
    assert _vector_index(postgres_url) == (True, "")
    assert _check(postgres_url, capsys)[1]["healthy"]


def test_a_second_writer_during_a_load_writes_rows_and_leaves_the_build_to_the_loader(
    postgres_url: str,
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(_texts(1))
        base.remove("notes/0.txt")
    loader, other = PostgresStore(postgres_url), PostgresStore(postgres_url)
    assert bulk_load.start(loader, "rag ingest")
    assert bulk_load.start(other, "rag ingest") is False  # the live loader holds the load
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(_texts(4))
    assert _vector_index(postgres_url) is None
    bulk_load.finish(loader)
    assert _vector_index(postgres_url) == (True, "")
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        assert base.stats()["chunks"] == 4
    loader.close()
    other.close()


def test_an_ingest_into_an_empty_database_builds_the_index_at_its_end(postgres_url: str) -> None:
    steps: list[tuple[int, int, str]] = []
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(_texts(6), index_progress=lambda *step: steps.append(step))
        chunks = base.stats()["chunks"]
        assert base.stats()["vector_index"] == "hnsw"
    assert steps[-1] == (chunks, chunks, "vectors indexed")
    assert _vector_index(postgres_url) == (True, "")


def test_a_write_into_a_database_with_chunks_never_waits_for_its_readers(postgres_url: str) -> None:
    import threading

    import psycopg

    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(_texts(2))
    with psycopg.connect(postgres_url) as reader:
        reader.execute("SELECT 1 FROM chunks LIMIT 1")  # a reader's open transaction holds the table
        written: list[str] = []

        def write() -> None:
            with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
                base.add_texts(_texts(3)[2:])
                written.append("done")

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=30)
        finished = bool(written)
        reader.rollback()
    writer.join()
    assert finished, "the write waited for a reader's transaction (a table lock)"
    assert _vector_index(postgres_url) == (True, "")
