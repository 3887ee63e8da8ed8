"""The index format: an index of format version 1 or 2 is upgraded in place, a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import RecordingEmbedder

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


# What an index written by format version 2 (with the sentence vectors of the Speed work) has
# instead of languages and analysed terms: an FTS table of the porter tokenizer over the text.
_DOWNGRADE_TO_2 = """
DROP TRIGGER chunks_fts_insert;
DROP TRIGGER chunks_fts_delete;
DROP TABLE chunks_vocab;
DROP TABLE chunks_fts;
ALTER TABLE chunks DROP COLUMN terms;
DROP INDEX documents_language;
ALTER TABLE documents DROP COLUMN language;
ALTER TABLE documents DROP COLUMN script;
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61'
);
INSERT INTO chunks_fts(rowid, text) SELECT id, coalesce(search_text, text) FROM chunks;
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, coalesce(new.search_text, new.text));
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text)
    VALUES ('delete', old.id, coalesce(old.search_text, old.text));
END;
UPDATE manifest SET value = '2' WHERE key = 'format_version';
"""
RHINE_DE = (
    "Der Rhein fließt von den Alpen bis zur Nordsee. Die Flüsse Europas tragen viele Schiffe. "
    "Bei Rotterdam erreicht der Rhein das Meer."
)


def test_version_2_index_is_upgraded_and_keeps_its_sentence_vectors(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    embedder = RecordingEmbedder()
    with rag.open(folder, embedder=embedder) as base:
        base.add_texts([rag.TextItem("rhein", RHINE_DE)])
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.executescript(_DOWNGRADE_TO_2)
        stored = connection.execute("SELECT count(*) FROM sentence_vectors").fetchone()[0]
    assert stored == 3
    embedder.calls.clear()
    with rag.open(folder, embedder=embedder) as base:
        assert base.store.manifest()["format_version"] == str(FORMAT_VERSION)
        assert [info.language for info in base.documents()] == ["de"]
        assert base.search("Fluss", mode="lexical")  # Snowball stems: Flüsse and Fluss meet
        answer = base.ask("Wo erreicht der Rhein das Meer?")
        assert "Rotterdam" in answer.citations[0].quote.text
        count = base.store._connect().execute("SELECT count(*) FROM sentence_vectors").fetchone()[0]
    assert count == stored
    assert embedder.calls == [["Wo erreicht der Rhein das Meer?"]]  # nothing embedded again


def test_a_read_only_version_2_index_asks_for_write_access_not_a_rebuild(
    tmp_path: Path, fake_embedder: rag.Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts([rag.TextItem("rhein", RHINE_DE)])
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.executescript(_DOWNGRADE_TO_2)
    monkeypatch.setattr("rag.storage.sqlite.opening.os.access", lambda path, mode: False)
    with pytest.raises(rag.IndexMismatchError, match=r"format version 2 and is read-only.*write access"):
        rag.open(folder, embedder=fake_embedder)


def test_index_of_a_newer_format_is_refused_in_one_line(tmp_path: Path, fake_embedder: rag.Embedder) -> None:
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts([rag.TextItem("a", "Some text to store.")])
    with sqlite3.connect(folder / DATABASE_NAME) as connection:
        connection.execute("UPDATE manifest SET value = '99' WHERE key = 'format_version'")
    with pytest.raises(rag.IndexMismatchError, match=r"has format version 99.*rebuild it in a new folder"):
        rag.open(folder, embedder=fake_embedder)


def test_the_languages_of_an_index_are_counted_without_reading_its_texts(
    tmp_path: Path, fake_embedder: rag.Embedder
) -> None:
    folder = version_1_index(tmp_path / "index", tmp_path / "docs", fake_embedder)
    with rag.open(folder, embedder=fake_embedder) as base:
        plan = base.store._connect().execute(
            "EXPLAIN QUERY PLAN SELECT language, count(*) FROM documents GROUP BY language"
        )
        assert "COVERING INDEX documents_language" in " ".join(str(row[-1]) for row in plan)
        assert base.store.language_counts() == {"en": 1}


def test_a_long_upgrade_shows_its_progress(
    tmp_path: Path,
    fake_embedder: rag.Embedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = version_1_index(tmp_path / "index", tmp_path / "docs", fake_embedder)
    monkeypatch.setattr("rag.storage.schema.UPGRADE_PROGRESS_FROM", 1)
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.search("Danube", mode="lexical")
    assert f"upgrading {folder} to format {FORMAT_VERSION}" in capsys.readouterr().err
