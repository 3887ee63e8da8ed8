"""The index format: an index of format version 1 is upgraded in place, a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import rag
from rag.storage.schema import FORMAT_VERSION
from rag.storage.store import DATABASE_NAME

# What an index written by format version 1 has instead of the locations table and search_text.
_DOWNGRADE_TO_1 = """
DROP TRIGGER chunks_fts_insert;
DROP TRIGGER chunks_fts_delete;
ALTER TABLE chunks DROP COLUMN search_text;
DROP TABLE locations;
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
UPDATE manifest SET value = '1' WHERE key = 'format_version';
"""


def version_1_index(folder: Path, corpus: Path, embedder: rag.Embedder) -> Path:
    """An index holding rivers.txt, rewritten to look as format version 1 wrote it."""
    corpus.mkdir()
    (corpus / "rivers.txt").write_text(
        "The Danube flows through ten countries before it reaches the Black Sea."
    )
    with rag.open(folder, embedder=embedder) as base:
        base.ingest([corpus])
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.executescript(_DOWNGRADE_TO_1)
    return folder


def test_version_1_index_is_upgraded_and_keeps_working(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    folder = version_1_index(tmp_path / "index", tmp_path / "docs", fake_embedder)
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.store.manifest()["format_version"] == str(FORMAT_VERSION)
        assert [info.language for info in base.documents()] == ["en"]  # detected by the upgrade
        assert base.search("Danube", mode="lexical")  # the full-text index was rebuilt from terms
        assert "Black Sea" in base.ask("Which sea does the Danube reach?").citations[0].quote.text
        (tmp_path / "docs" / "budget.csv").write_text("department,budget_eur\nResearch,1250000\n")
        base.ingest([tmp_path / "docs"])
        answer = base.ask("What is the budget_eur of Research?")
        assert answer.citations[0].location == "row 2"
        assert base.remove("rivers.txt") == 1
        assert base.search("Danube", mode="lexical") == []


def test_index_of_a_newer_format_is_refused_in_one_line(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts([rag.TextItem("a", "Some text to store.")])
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.execute("UPDATE manifest SET value = '99' WHERE key = 'format_version'")
    with pytest.raises(rag.IndexMismatchError, match=r"has format version 99.*rebuild it in a new folder"):
        rag.open(folder, embedder=fake_embedder)
