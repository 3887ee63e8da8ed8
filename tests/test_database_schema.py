"""The PostgreSQL format versions: an index of format 1 is read as it is, upgraded in place by a
writer (never by a reader), and one of a newer format than the code is refused."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from conftest import RIVER_TEXTS, reading_role, schema_of
from psycopg import sql

import rag
from rag.cli.main import main
from rag.storage.database import hnsw, schema

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def searched_by_hnsw(monkeypatch: pytest.MonkeyPatch) -> None:
    """What is read before and after an upgrade is compared through one vector search: pgvector's
    (an upgrade to format 3 would otherwise move a reader to its own FAISS index, which orders the
    river notes' tied scores differently; tests/test_follower.py covers that switch)."""
    monkeypatch.setenv("RAG_POSTGRES_VECTORS", "hnsw")


FAKE = ["--model", "hashing-256"]
# What formats 3 and 4 added, dropped again: what is left is an index of format 2.
TO_FORMAT_2 = (
    "DROP TRIGGER vector_journal_reset ON chunks",
    "DROP FUNCTION vector_journal_reset()",
    "DELETE FROM manifest WHERE key = 'vector_journal_pruned'",
    "DROP TRIGGER vector_journal_append ON chunks",
    "DROP FUNCTION vector_journal_append()",
    "DROP TABLE vector_journal",
    "UPDATE manifest SET value = '2' WHERE key = 'format_version'",
)
# What formats 2 and 3 added, dropped again: what is left is an index of format 1.
TO_FORMAT_1 = (
    *TO_FORMAT_2[:-1],
    "DROP TABLE document_grants, audit_events, audit_prune_permit, page_boxes",
    "DROP FUNCTION audit_events_append_only()",
    "UPDATE manifest SET value = '1' WHERE key = 'format_version'",
)
# Every table, column and index of a schema: what two schemas of one format share.
SHAPE = """
SELECT 'column', c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = %(schema)s::text::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'index', indexname || ' ' || replace(indexdef, %(schema)s::text || '.', '') FROM pg_indexes WHERE schemaname = %(schema)s::text
UNION ALL
SELECT 'function', proname FROM pg_proc WHERE pronamespace = %(schema)s::text::regnamespace
ORDER BY 1, 2
"""


def shape(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(SHAPE, {"schema": schema_of(url)}).fetchall()


def format_1_index(url: str) -> None:
    """An index of format 1 holding the river notes, made as format 1 made them (checked against
    its DDL in a fresh schema)."""
    with rag.open(url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in TO_FORMAT_1:
            connection.execute(statement)


def format_version(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT value FROM manifest WHERE key = 'format_version'").fetchone()
    assert row is not None
    return str(row[0])


def what_is_read(url: str) -> tuple[object, ...]:
    """Everything format 1 had, as a reader sees it: documents, chunks, search results, an answer."""
    with rag.open(url, embedder=rag.HashingEmbedder(256)) as base:
        documents = [(info.id, info.source, info.chunks) for info in base.documents()]
        passages = [(p.source, p.start, p.end) for p in base.search("When does the river flood?", k=5)]
        answer = base.ask("When does the cedar river flood?")
        texts = [base.document(source).text for _, source, _ in documents]
        return documents, passages, answer.answered, answer.text, texts, base.stats()["chunks"]


def test_the_format_1_ddl_is_what_an_index_without_format_2s_tables_has(
    postgres_url: str, other_postgres_url: str
) -> None:
    format_1_index(postgres_url)
    with psycopg.connect(other_postgres_url, autocommit=True) as connection:
        tables = sql.SQL(schema.TABLES + schema.LOG_TABLES).format(dimension=sql.Literal(256))
        connection.execute(tables)
        connection.execute(hnsw.VECTOR_INDEX)  # format 1 made it with the tables
    assert shape(postgres_url) == shape(other_postgres_url)
    assert not any(
        "grant" in name or "audit" in name or "page_boxes" in name for _, name in shape(postgres_url)
    )


def test_a_reader_of_format_1_reads_everything_and_is_told_what_needs_format_2(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    format_1_index(postgres_url)
    before = shape(postgres_url)
    read = what_is_read(postgres_url)
    assert read[2] and len(read[0]) == len(RIVER_TEXTS)
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        assert base.readers_of(read[0][0][1]) is None and not base.store.has_grants()
        with pytest.raises(rag.IndexMismatchError, match=r"rag check --repair --index postgresql://"):
            base.engine_store().audit_events()
    capsys.readouterr()
    assert main(["audit", "--index", postgres_url, *FAKE]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "format version 2" in err and "rag check --repair" in err
    assert main(["check", "--index", postgres_url, *FAKE]) == 1
    assert "format version 1" in capsys.readouterr().out
    assert main(["ask", "When does the cedar river flood?", "--index", postgres_url, *FAKE]) == 0
    assert main(["search", "river", "--index", postgres_url, *FAKE]) == 0
    assert format_version(postgres_url) == "1" and shape(postgres_url) == before  # nothing upgraded


@pytest.mark.parametrize("writer", ["check --repair", "remove", "ingest", "grant"])
def test_a_writer_upgrades_format_1_in_place_keeping_everything(
    postgres_url: str, tmp_path: Path, writer: str
) -> None:
    from rag.access.identity import Actor

    format_1_index(postgres_url)
    read = what_is_read(postgres_url)
    if writer == "check --repair":
        assert main(["check", "--repair", "--index", postgres_url, *FAKE]) == 0
    else:
        with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
            if writer == "remove":
                with pytest.raises(rag.NotFoundError):
                    base.remove("no-such-file.txt")  # found missing before anything is written
                assert format_version(postgres_url) == "1"
                base.add_texts([rag.TextItem("extra.txt", "An extra note about the harbour.")])
                base.remove("extra.txt")
            elif writer == "ingest":
                (tmp_path / "extra.txt").write_text("An extra note about the harbour.")
                base.ingest([tmp_path / "extra.txt"])
                base.remove(str(tmp_path / "extra.txt"))
            else:
                base.set_readers(read[0][0][1], frozenset({"finance"}), Actor("admin"))
                base.set_readers(read[0][0][1], None, Actor("admin"))
    assert format_version(postgres_url) == str(schema.FORMAT_VERSION)
    assert what_is_read(postgres_url) == read
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        assert base.check().is_healthy, base.check().problems
        base.engine_store().record("alice", "asked", {"question": "floods?"})
        assert [event.actor for event in base.engine_store().audit_events()] == ["alice"]


def test_a_role_that_only_reads_never_upgrades_format_1(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    format_1_index(postgres_url)
    before = shape(postgres_url)
    with reading_role(postgres_url) as reader:
        assert what_is_read(reader) == what_is_read(postgres_url)
        capsys.readouterr()
        assert main(["check", "--repair", "--index", reader, *FAKE]) == 2
        err = capsys.readouterr().err
        assert (
            "permission denied" in err
            and "read-only-secret" not in err
            and len(err.strip().splitlines()) == 1
        )
        assert main(["remove", "notes/amber.txt", "--index", reader, *FAKE]) == 2
        err = capsys.readouterr().err
        assert f"upgrading the index from format 1 to {schema.FORMAT_VERSION}" in err
        assert "rag check --repair" in err
        capsys.readouterr()
        _served_over_format_1(reader)
        logged = capsys.readouterr().err
        assert "audit: cannot record in rivers" in logged and "rag check --repair" in logged
    assert format_version(postgres_url) == "1" and shape(postgres_url) == before


def _served_over_format_1(reader: str) -> None:
    """`rag serve` over a format-1 index with a role that only reads: answers; no grants to apply;
    the audit trail it cannot keep is a line on stderr, never a failed answer."""
    import httpx

    from eval.ports import listen_port
    from rag.serve import RunningServer, ServeConfig

    server = RunningServer(
        ServeConfig({"rivers": reader}, port=listen_port()), embedder=rag.HashingEmbedder(256)
    )
    try:
        asked = httpx.post(
            server.url + "/v1/ask", json={"question": "When does the cedar river flood?"}, timeout=60
        )
        assert asked.status_code == 200 and asked.json()["answered"], asked.text
        listed = httpx.get(server.url + "/v1/documents", timeout=60)
        assert listed.status_code == 200 and len(listed.json()["data"]) == len(RIVER_TEXTS)
    finally:
        server.stop()


def test_an_index_of_a_newer_format_is_refused(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS[:1])
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            "UPDATE manifest SET value = %s WHERE key = 'format_version'", (str(schema.FORMAT_VERSION + 1),)
        )
    newer, current = schema.FORMAT_VERSION + 1, schema.FORMAT_VERSION
    with pytest.raises(
        rag.IndexMismatchError,
        match=rf"format version {newer}, this version of Verbatim reads up to {current}",
    ):
        rag.open(postgres_url, embedder=rag.HashingEmbedder(256))
    assert main(["ingest", "--index", postgres_url, *FAKE, "/nonexistent"]) == 2
    assert "use a newer Verbatim" in capsys.readouterr().err
    assert format_version(postgres_url) == str(newer)


def test_optimize_upgrades_format_1_and_reads_page_positions_from_the_unchanged_originals(
    postgres_url: str, tmp_path: Path
) -> None:
    from sample_files import positioned_pdf

    pdf = tmp_path / "ferry.pdf"
    pdf.write_bytes(positioned_pdf([[(72, 700, "F1", "The ferry leaves at noon daily.")]]))
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([pdf])
        document = base.document(str(pdf))
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in TO_FORMAT_1:
            connection.execute(statement)
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        plain = base.page_image(document.id, 1, width=200)  # format 1 shows pages, unmarked
        assert plain.startswith(b"\x89PNG")
        with pytest.raises(
            rag.DocumentError, match=r"ingested before page positions were stored.*rag optimize"
        ):
            base.page_image(document.id, 1, highlight=(0, 9))
        assert format_version(postgres_url) == "1"
        filled = base.optimize()
        assert (
            filled["documents_given_page_positions"] == 1 and filled["documents_without_page_positions"] == 0
        )
        assert format_version(postgres_url) == str(schema.FORMAT_VERSION)
        assert base.page_image(document.id, 1, highlight=(0, 9), width=200) != plain
