"""The SQLite store: damaged, full, foreign, missing and read-only index folders."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import RIVER_TEXTS

import rag
from rag.storage.records import DISTINCT_LANGUAGES
from rag.storage.store import DATABASE_NAME


@pytest.fixture
def folder(river_index: Path) -> Path:
    return river_index


def damage(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as stream:
        stream.seek(offset)
        stream.write(data)


def test_overwritten_header_is_a_one_line_damage_error(folder: Path, fake_embedder: rag.Embedder) -> None:
    damage(folder / DATABASE_NAME, 0, b"garbage!" * 12)
    with pytest.raises(rag.IndexDamagedError, match=r"damaged .*rag check") as raised:
        rag.open(folder, embedder=fake_embedder)
    assert "\n" not in str(raised.value)


def test_truncated_database_is_a_damage_error(folder: Path, fake_embedder: rag.Embedder) -> None:
    database = folder / DATABASE_NAME
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    with pytest.raises(rag.IndexDamagedError), rag.open(folder, embedder=fake_embedder) as base:
        base.documents()
        base.search("amber river", mode="dense")


def test_changed_stored_dimension_is_a_damage_error_not_a_reshape_traceback(
    folder: Path, fake_embedder: rag.Embedder
) -> None:
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.execute("UPDATE manifest SET value = '255' WHERE key = 'dimension'")
    (folder / "vectors.faiss").unlink()
    with (
        rag.open(folder, embedder=fake_embedder) as base,
        pytest.raises(rag.IndexDamagedError, match="not 255 numbers long"),
    ):
        base.search("amber river", mode="dense")


def test_full_disk_says_so_and_keeps_committed_documents(folder: Path, fake_embedder: rag.Embedder) -> None:
    with rag.open(folder, embedder=fake_embedder) as base:
        base.store._connect().execute("PRAGMA max_page_count = 1")  # the "disk" is now full
        big = rag.TextItem("notes/big.txt", "Floods and rivers and valleys. " * 3000)
        with pytest.raises(rag.RagError, match=r"disk .* is full") as raised:
            base.add_texts([big])
        assert "no transaction is active" not in str(raised.value)
    with rag.open(folder, embedder=fake_embedder) as base:
        assert len(base.documents()) == len(RIVER_TEXTS)
        assert base.add_texts([big]).count("added") == 1  # resumes once there is room


def test_foreign_database_is_refused_and_left_untouched(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    other = tmp_path / "other"
    other.mkdir()
    with sqlite3.connect(other / DATABASE_NAME) as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")
    before = (other / DATABASE_NAME).read_bytes()
    for action in ("read", "ingest"):
        with pytest.raises(rag.IndexMismatchError, match="not a Verbatim index"):
            base = rag.open(other, embedder=fake_embedder)
            if action == "ingest":
                base.add_texts(RIVER_TEXTS)
    assert (other / DATABASE_NAME).read_bytes() == before
    assert sorted(path.name for path in other.iterdir()) == [DATABASE_NAME]
    with sqlite3.connect(other / DATABASE_NAME) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def _as_another_user(function: Callable[[Path], Any], folder: Path) -> Any:
    """function(folder) in a child that cannot write the index (root ignores permissions).

    A forkserver child starts from a clean process: forking the test process itself after
    FAISS and torch started their thread pools can deadlock.
    """
    context = multiprocessing.get_context("forkserver")
    with context.Pool(1) as pool:
        return pool.apply(_run_without_write_permission, (function, folder))


def _run_without_write_permission(function: Callable[[Path], Any], folder: Path) -> Any:
    # Import everything the function needs while every folder can still be read.
    with tempfile.TemporaryDirectory() as warm_up:
        _ingest(Path(warm_up))
        _search(Path(warm_up))
    if os.geteuid() == 0:
        os.setgid(65534)
        os.setuid(65534)
    try:
        return ("ok", function(folder))
    except Exception as error:  # noqa: BLE001 - handed to the parent to assert on
        return ("error", f"{type(error).__name__}: {error}")


def _search(folder: Path) -> list[str]:
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        return [passage.source for passage in base.search("cedar valley", k=1)]


def _ingest(folder: Path) -> object:
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        return base.add_texts([rag.TextItem("new.txt", "A new document about floods.")])


def _make_read_only(folder: Path) -> None:
    for path in [folder, *folder.iterdir()]:
        mode = path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        path.chmod(mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (0o555 if path.is_dir() else 0))


def test_read_only_index_can_be_searched_but_not_written(tmp_path: Path) -> None:
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"verbatim-read-only-{os.getpid()}"
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
    (folder / "vectors.faiss").unlink()  # stale derived data must not need writing either
    _make_read_only(folder)
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}

    try:
        assert _as_another_user(_search, folder) == ("ok", ["notes/cedar.txt"])
        status, message = _as_another_user(_ingest, folder)
        assert status == "error" and "StorageError" in message and "searching works" in message
        assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before
    finally:
        for path in [folder, *folder.iterdir()]:
            path.chmod(0o755)
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


def test_documents_record_their_language_and_script(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts(
        [
            rag.TextItem("zh", "黑豹队的防守只丢了308分，在联赛中排名第六。"),
            rag.TextItem("ar", "لم يتخل دفاع البانثرز إلا عن 308 نقاط في الموسم."),
        ]
    )
    labels = {info.source: info.language_label for info in fake_base.documents()}
    assert labels == {"zh": "zh · Han", "ar": "ar · Arabic"}
    assert fake_base.document("zh").language == "zh"
    assert fake_base.stats()["languages"] == {"ar": 1, "zh": 1}


def test_the_languages_of_an_index_are_found_by_hopping_through_their_index(
    fake_base: rag.KnowledgeBase,
) -> None:
    """Every search asks which languages there are: a million documents must not be read for it."""
    fake_base.add_texts(
        [
            rag.TextItem("de", "Der Rhein fließt von den Alpen bis in die Nordsee."),
            rag.TextItem("en", "The Rhine flows from the Alps into the North Sea."),
            rag.TextItem("en-2", "The Danube flows into the Black Sea near its delta."),
            rag.TextItem("zh", "黑豹队的防守只丢了308分，在联赛中排名第六。"),
        ]
    )
    assert fake_base.store.languages() == ["de", "en", "zh"]
    assert fake_base.store.language_counts() == {"en": 2, "de": 1, "zh": 1}
    plan = fake_base.store._connect().execute("EXPLAIN QUERY PLAN " + DISTINCT_LANGUAGES).fetchall()
    steps = [str(row[-1]) for row in plan]
    assert not any(step.startswith("SCAN documents") for step in steps)
    assert any("COVERING INDEX documents_language (language>?)" in step for step in steps)


def test_chunk_vectors_are_read_by_id_and_unknown_ids_are_skipped(
    river_index: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    with rag.open(river_index, embedder=fake_embedder) as base:
        passage = base.search("amber river", k=1, mode="lexical")[0]
        found = base.store.chunk_vectors([passage.chunk_id, 10**9], fake_embedder.dimension)
        assert list(found) == [passage.chunk_id]
        expected = fake_embedder.embed([passage.text])[0]
        assert float(found[passage.chunk_id] @ expected) == pytest.approx(1.0, abs=1e-5)
        assert base.store.chunk_vectors([passage.chunk_id], fake_embedder.dimension + 1) == {}


def test_processes_creating_one_index_at_once_all_find_it_whole(tmp_path: Path) -> None:
    # Several `rag serve` processes on an empty folder create its index at the same moment.
    folder = tmp_path / "index"
    start_at = time.time() + 2.0
    script = (
        "import sys, time; from pathlib import Path; from rag.storage.store import Store; "
        f"time.sleep(max(0.0, {start_at} - time.time())); "
        "store = Store.create(Path(sys.argv[1])); store._check_is_index(); print(store.counts())"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * 8, [error for _, error in results]
    assert [out.strip() for out, _ in results] == ["(0, 0)"] * 8
    assert sorted(path.name for path in folder.iterdir() if path.name.endswith(".new")) == []
    with rag.open(folder, embedder=rag.HashingEmbedder(64)) as base:
        base.add_texts([rag.TextItem("a.txt", "The index made by one of them takes documents.")])
        assert base.stats()["documents"] == 1
