"""Every failure a user can cause on the command line: one `error:` line, exit status 2, no traceback.

One case per failure of issue #11's list (and the older ones), each from a fresh index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from rag.cli.main import main

FAKE = ["--model", "hashing-256"]


def damaged_header(index: Path) -> None:
    with (index / "rag.sqlite").open("r+b") as stream:
        stream.write(b"garbage!" * 12)


def truncated(index: Path) -> None:
    database = index / "rag.sqlite"
    database.write_bytes(database.read_bytes()[:4096])


def other_dimension(index: Path) -> None:
    with sqlite3.connect(index / "rag.sqlite") as connection:
        connection.execute("UPDATE manifest SET value = '255' WHERE key = 'dimension'")
    (index / "vectors.faiss").unlink()


def foreign_database(index: Path) -> None:
    (index / "rag.sqlite").unlink()
    with sqlite3.connect(index / "rag.sqlite") as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")


def nothing(index: Path) -> None:
    pass


# (id, how the index is damaged first, the command, a fragment of the one error line)
CASES: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    ("damaged-header", damaged_header, ["stats"], "is damaged"),
    ("truncated-database", truncated, ["search", "tea"], "damaged"),
    ("changed-dimension", other_dimension, ["search", "tea", "--mode", "dense"], "not 255 numbers long"),
    ("foreign-database", foreign_database, ["stats"], "not a Verbatim index"),
    ("missing-index", nothing, ["ask", "tea?", "--index", "{tmp}/typo"], "no index at"),
    ("index-is-a-file", nothing, ["stats", "--index", "{docs}/tea.txt"], "is a file, not an index folder"),
    ("unknown-document", nothing, ["remove", "nothing-like-this.txt"], "no document"),
    ("negative-k", nothing, ["search", "tea", "-k", "-3"], "k (the number of passages) must be"),
    ("k-not-a-number", nothing, ["ask", "tea", "-k", "many"], "invalid int value"),
    ("unknown-mode", nothing, ["search", "tea", "--mode", "psychic"], "invalid choice"),
    ("empty-question", nothing, ["ask", "   "], "the question is empty"),
    ("bad-chunk-size", nothing, ["ingest", "{docs}", "--chunk-size", "10"], "chunk_size"),
    ("other-model", nothing, ["ask", "tea?", "--model", "hashing-128"], "hashing-256"),
    ("no-command", nothing, [], "required"),
    ("eval-without-dataset", nothing, ["eval"], "give a question set"),
]


@pytest.mark.parametrize(
    ("damage", "argv", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_user_failure_is_one_error_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], None],
    argv: list[str],
    expected: str,
) -> None:
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "tea.txt").write_text("Green tea is made from the leaves of Camellia sinensis. " * 30)
    assert main(["ingest", str(docs), "--index", str(index), *FAKE]) == 0
    damage(index)
    capsys.readouterr()
    argv = [part.format(tmp=tmp_path, docs=docs) for part in argv]
    if argv and "--index" not in argv:
        argv += ["--index", str(index)]
    if argv and "--model" not in argv:
        argv += FAKE
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err and "Traceback" not in err


def test_a_second_writer_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs, index = tmp_path / "docs", tmp_path / "index"
    docs.mkdir()
    (docs / "tea.txt").write_text("Green tea is made from the leaves of Camellia sinensis.")
    assert main(["ingest", str(docs), "--index", str(index), *FAKE]) == 0
    capsys.readouterr()
    with FileLock(index / ".write.lock", is_singleton=False, thread_local=False):
        code = main(["ingest", str(docs), "--index", str(index), *FAKE])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: another process is writing") and err.count("\n") == 1
