"""`rag check`: damage of every kind is found, derived data is repaired, the truth is never guessed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import rag
from rag.cli.main import main
from rag.storage.store import DATABASE_NAME
from rag.storage.vectors.saved import VECTORS_NAME

FAKE = ["--model", "hashing-256"]


@pytest.fixture
def folder(river_index: Path) -> Path:
    return river_index


def sql(folder: Path, statement: str) -> None:
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.execute(statement)


def check(folder: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, list[str]]:
    code = main(["check", "--index", str(folder), *FAKE, *flags])
    return code, capsys.readouterr().out.strip().splitlines()


def test_healthy_index_is_ok(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check(folder, capsys) == (0, [f"{folder}: ok"])


def test_chunk_text_that_differs_from_its_document_is_found_and_repaired(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(folder, "UPDATE chunks SET text = 'tampered' WHERE id = 2")
    code, lines = check(folder, capsys)
    assert code == 1 and lines[0] == "problem: chunk 2: its text is not the document's text at its offsets"
    assert lines[1].startswith("problem: full-text index:") and "word positions differ" in lines[1]
    code, lines = check(folder, capsys, "--repair")
    assert code == 0 and any(line.startswith("repaired:") for line in lines)
    assert check(folder, capsys) == (0, [f"{folder}: ok"])


def test_damaged_vectors_in_sqlite_are_found_and_re_embedded(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(folder, "UPDATE chunks SET vector = zeroblob(12) WHERE id = 1")
    sql(folder, "UPDATE chunks SET vector = randomblob(1024) WHERE id = 4")
    code, lines = check(folder, capsys)
    assert code == 1 and "chunk 1: its vector is damaged" in lines[0]
    assert check(folder, capsys, "--repair")[0] == 0
    assert check(folder, capsys)[0] == 0


def test_damaged_vector_file_and_full_text_index_are_rebuilt(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray((folder / VECTORS_NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / VECTORS_NAME).write_bytes(bytes(data))
    sql(folder, "INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', 1, 'amber')")
    code, lines = check(folder, capsys)
    assert code == 1 and len(lines) == 2
    assert "full-text index" in lines[0] and "checksum" in lines[1]
    assert check(folder, capsys, "--repair")[0] == 0
    assert check(folder, capsys)[0] == 0
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        assert base.search("cedar valley", k=1, mode="lexical")[0].source == "notes/cedar.txt"


def test_damaged_document_text_is_reported_and_not_guessed(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(folder, "UPDATE documents SET text = 'rewritten' WHERE source = 'notes/birch.txt'")
    code, lines = check(folder, capsys, "--repair")
    assert code == 1
    assert "problem: document notes/birch.txt: its text does not match its id (damaged)" in lines
    assert "could not repair: document notes/birch.txt: remove it and ingest its file again" in lines


def test_garbage_in_the_middle_of_the_database_is_found(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = folder / DATABASE_NAME
    size = database.stat().st_size
    with database.open("r+b") as stream:
        stream.seek(size // 2 // 4096 * 4096)
        stream.write(b"\xa5" * 8192)
    code, lines = check(folder, capsys, "--repair")
    assert code == 1 and lines and all(line.startswith(("problem:", "could not repair:")) for line in lines)
    assert any(line.startswith("could not repair:") for line in lines)


def test_unreadable_database_is_one_problem_line(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (folder / DATABASE_NAME).open("r+b") as stream:
        stream.write(b"x" * 100)
    code, lines = check(folder, capsys, "--repair")
    assert code == 1 and lines[0].startswith("problem: rag.sqlite: cannot be read")
    assert lines[1].startswith("could not repair: rag.sqlite: restore it from a backup")


def test_missing_index_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = check(tmp_path / "nothing", capsys)
    assert code == 1 and "no index at" in lines[0]
    assert not (tmp_path / "nothing").exists()


def test_table_rows_found_by_their_headers_stay_consistent_through_a_repair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ports.csv").write_text("port,cargo\nZanzibar,cloves\nPemba,timber\n")
    index = tmp_path / "index"
    assert main(["ingest", str(tmp_path / "docs"), "--index", str(index), *FAKE]) == 0
    assert check(index, capsys)[0] == 0  # chunks found by "cargo: cloves", not their raw row
    sql(index, "INSERT INTO chunks_fts(chunks_fts) VALUES ('delete-all')")
    assert check(index, capsys)[0] == 1
    assert check(index, capsys, "--repair")[0] == 0
    with rag.open(index, embedder=rag.HashingEmbedder(256)) as base:
        assert base.search("cargo timber", k=1, mode="lexical")[0].source.endswith("ports.csv")


def test_a_save_killed_before_its_last_rename_leaves_a_stale_file_not_damage(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.storage.vectors import saved

    previous = (folder / VECTORS_NAME).read_bytes()
    real_write = saved._atomic_write

    def killed_before_the_data(path: Path, data: bytes, mode: int) -> None:
        if path.name == VECTORS_NAME:
            raise KeyboardInterrupt  # the process dies after vectors.json was renamed
        real_write(path, data, mode)

    monkeypatch.setattr(saved, "_atomic_write", killed_before_the_data)
    meta = saved.read_meta(folder)
    with pytest.raises(KeyboardInterrupt):
        saved.write_base(folder, previous + b"more", meta)
    assert (folder / VECTORS_NAME).read_bytes() == previous
    assert saved.read_base(folder) is None  # never trusted: rebuilt from SQLite on use
    assert check(folder, capsys) == (0, [f"{folder}: ok"])
    # The same file with a flipped byte is damage, as before.
    data = bytearray(previous)
    data[len(data) // 2] ^= 0xFF
    (folder / VECTORS_NAME).write_bytes(bytes(data))
    assert check(folder, capsys)[0] == 1


def restore_scenario(tmp_path: Path) -> tuple[Path, Path]:
    """The report's probe 60: a backup of rag.sqlite, then a removal, new documents and
    `rag optimize` (a new vectors.faiss), then the backup copied back over rag.sqlite."""
    docs, folder = tmp_path / "rdocs", tmp_path / "ridx"
    docs.mkdir()
    for number in range(40):
        (docs / f"doc{number:02}.txt").write_text(
            f"Document {number}. The unique tag is zq{number}x. It is about rivers."
        )
    assert main(["ingest", str(docs), "--index", str(folder), *FAKE]) == 0
    backup = tmp_path / "backup.sqlite"
    with (
        closing(sqlite3.connect(folder / DATABASE_NAME)) as source,
        closing(sqlite3.connect(backup)) as target,
    ):
        source.backup(target)
    assert main(["remove", "doc03.txt", "--index", str(folder), *FAKE]) == 0
    (docs / "doc03.txt").unlink()
    for number in range(40, 45):
        (docs / f"doc{number}.txt").write_text(
            f"Document {number}. The unique tag is zq{number}x. It is about a lighthouse."
        )
    assert main(["ingest", str(docs), "--index", str(folder), *FAKE]) == 0
    assert main(["optimize", "--index", str(folder), *FAKE]) == 0
    (folder / DATABASE_NAME).write_bytes(backup.read_bytes())
    for suffix in ("-wal", "-shm"):
        (folder / (DATABASE_NAME + suffix)).unlink(missing_ok=True)
    return docs, folder


def test_a_database_restored_from_a_backup_is_never_searched_through_a_newer_vector_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder = restore_scenario(tmp_path)
    capsys.readouterr()
    code, lines = check(folder, capsys)
    assert code == 1 and "saved from another state" in lines[0]
    more = tmp_path / "more"
    more.mkdir()
    for number in range(1, 6):
        (more / f"v{number}.txt").write_text(f"Volcano report {number}: ash over the plains.")
    assert main(["ingest", str(more), "--index", str(folder), *FAKE]) == 0  # ids 41-45 again
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        found = base.search("Volcano report ash over the plains", k=5, mode="dense")
        assert all("Volcano" in passage.text for passage in found)  # not the old lighthouse vectors
        assert any("doc03" in passage.source for passage in base.search("zq3x rivers", k=40, mode="dense"))
    capsys.readouterr()
    assert check(folder, capsys) == (0, [f"{folder}: ok"])


def test_repair_rebuilds_a_vector_file_saved_from_another_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, folder = restore_scenario(tmp_path)
    capsys.readouterr()
    assert check(folder, capsys)[0] == 1
    code, lines = check(folder, capsys, "--repair")
    assert code == 0 and any("rebuilt" in line for line in lines)
    assert check(folder, capsys) == (0, [f"{folder}: ok"])
