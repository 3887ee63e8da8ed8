"""The PostgreSQL + pgvector engine against a real server (pgserver's, on 127.0.0.1)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import RIVER_TEXTS, SEEDS, reading_role, schema_of

import rag
from eval.ports import POSTGRES_PORTS, free_port
from rag.cli.main import main

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[1]
HNSW = rag.Settings(postgres_vectors="hnsw")  # a new index made with it keeps pgvector's HNSW index
VARIED_TEXTS = [
    *RIVER_TEXTS,
    rag.TextItem("tea.txt", "Green tea is made from unoxidised leaves of Camellia sinensis grown in Asia."),
    rag.TextItem(
        "coffee.md", "# Coffee\n\nCoffee beans are the roasted seeds of the Coffea plant in Ethiopia."
    ),
    rag.TextItem("de.txt", "Die Hochwasser des Rheins überschwemmen jedes Frühjahr die Täler am Ufer."),
    rag.TextItem("zh.txt", "黑豹队的防守在第五十届超级碗中表现出色，他们的防守球员拦截了对方的传球。"),
]
QUESTIONS = [
    "When does the cedar river flood?",
    "What are coffee beans?",
    "Where is green tea grown?",
    "Hochwasser im Frühjahr",
    "防守",
    "valley spring",
]


def test_ingest_and_ask_quote_the_text_stored_in_postgres(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        report = base.add_texts(VARIED_TEXTS)
        assert report.count("added") == len(VARIED_TEXTS)
        answer = base.ask("What are coffee beans?")
        assert answer.answered and answer.citations
        for citation in answer.citations:
            stored = base.document(citation.quote.document_id)
            assert stored.text[citation.quote.start : citation.quote.end] == citation.quote.text
        assert "Coffea" in answer.citations[0].quote.text


def test_changed_text_replaces_a_document_and_remove_deletes_it(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("a.txt", "Apples grow on trees in the orchard.")])
        base.add_texts([rag.TextItem("a.txt", "Pears grow on trees in the orchard.")])
        assert base.stats()["documents"] == 1
        assert base.search("pears", mode="lexical")[0].text.startswith("Pears")
        assert base.search("apples", mode="lexical") == []
        assert base.remove("a.txt") == 1
        assert base.is_empty()


def score_levels(passages: list[rag.Passage], score: str) -> list[tuple[float, list[tuple[str, int]]]]:
    """Passages grouped by equal score, best first; the last group is left out (the cut at k may
    split a tie, and engines order tied vectors differently)."""
    levels: dict[float, list[tuple[str, int]]] = {}
    for passage in passages:
        levels.setdefault(round(getattr(passage, score) or 0.0, 6), []).append(
            (passage.source, passage.start)
        )
    return [(level, sorted(found)) for level, found in levels.items()][:-1]


def test_both_engines_rank_alike_up_to_ties(tmp_path: Path, postgres_url: str) -> None:
    embedder = rag.HashingEmbedder(256)
    with (
        rag.open(tmp_path / "index", embedder=embedder) as folder,
        rag.open(postgres_url, embedder=embedder) as database,
    ):
        folder.add_texts(VARIED_TEXTS)
        database.add_texts(VARIED_TEXTS)
        for question in QUESTIONS:
            for mode, score in (("lexical", "lexical_score"), ("dense", "dense_score")):
                in_folder = folder.search(question, k=8, mode=mode)
                in_database = database.search(question, k=8, mode=mode)
                assert score_levels(in_folder, score) == score_levels(in_database, score), (question, mode)
            if question == "valley spring":  # every river note says it alike: the best is a tie
                continue
            best_in_folder = folder.search(question, k=1)[0]
            best_in_database = database.search(question, k=1)[0]
            assert best_in_folder.source == best_in_database.source  # chunks may tie


def test_two_writer_processes_ingest_at_once_without_loss(postgres_url: str) -> None:
    script = (
        "import sys, rag\n"
        "name, url = sys.argv[1], sys.argv[2]\n"
        "items = [rag.TextItem(f'{name}/{i}.txt', f'{name} note {i} about rivers ' * 30) for i in range(15)]\n"
        "items += [rag.TextItem(f'shared/{i}.txt', f'shared note {i} written by {name}') for i in range(5)]\n"
        "with rag.open(url, embedder=rag.HashingEmbedder(256)) as base:\n"
        "    base.add_texts(items)\n"
    )
    environment = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script, name, postgres_url], env=environment, stderr=subprocess.PIPE
        )
        for name in ("first", "second")
    ]
    for writer in writers:
        _, error = writer.communicate(timeout=240)
        assert writer.returncode == 0, error.decode()
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        sources = base.store.sources()
        assert len(sources) == 35  # 15 + 15 of their own, 5 shared sources stored once
        assert sum(info.chunks for info in base.documents()) == base.stats()["chunks"]
        shared = base.document("shared/3.txt")
        assert shared.text.startswith("shared note 3 written by")


def test_cli_ingests_and_answers_over_a_database_url(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tea.txt").write_text("Green tea is made from unoxidised leaves of Camellia sinensis.")
    fake = ["--model", "hashing-256"]
    assert main(["ingest", str(tmp_path / "tea.txt"), "--index", postgres_url, *fake, "--json"]) == 0
    capsys.readouterr()
    assert main(["ask", "What is green tea made from?", "--index", postgres_url, *fake, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answered"] and "Camellia" in answer["citations"][0]["quote"]


def test_a_first_search_on_a_machine_shows_its_follower_being_built_and_a_later_one_does_not(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))  # no saved copy on this machine yet
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(
            [rag.TextItem(f"note{n}.txt", f"Note {n} is about the tides of bay {n}.") for n in range(40)]
        )
    fake = ["--index", postgres_url, "--model", "hashing-256"]
    assert main(["search", "tides of bay 7", *fake]) == 0
    first = capsys.readouterr()
    assert "note7.txt" in first.out and re.search(r"40/40 \[.*vectors", first.err), first.err
    assert main(["search", "tides of bay 9", *fake]) == 0
    again = capsys.readouterr()
    assert "note9.txt" in again.out and "vectors" not in again.err  # taken from the saved copy


def test_a_lexical_search_builds_no_follower(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(
            [rag.TextItem(f"note{n}.txt", f"Note {n} is about the tides of bay {n}.") for n in range(40)]
        )
    fake = ["--index", postgres_url, "--model", "hashing-256", "--mode", "lexical"]
    assert main(["search", "tides of bay 7", *fake]) == 0
    assert main(["ask", "When are the tides of bay 7?", *fake]) == 0
    assert "vectors" not in capsys.readouterr().err
    assert not list((tmp_path / "cache").rglob("*.faiss"))  # no vector was read


def test_a_failed_exact_search_does_not_leave_hnsw_searching_fewer_candidates(postgres_url: str) -> None:
    from rag.storage.postgres import PostgresStore

    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("a.txt", "Payroll is paid on the 25th. " * 5)])
    store = PostgresStore(postgres_url)
    try:
        with pytest.raises(rag.RagError):
            store.exact_search(np.ones((1, 5), dtype=np.float32), 200)  # a wrong dimension: refused
        store.dense_search(np.ones((1, 256), dtype=np.float32) / 16, 200)
        shown = store.with_connection(lambda connection: connection.execute("SHOW hnsw.ef_search").fetchone())
        assert shown is not None and int(shown[0]) >= 200
    finally:
        store.close()


def test_eval_builds_the_follower_before_its_first_question_and_shows_it(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))  # no saved copy on this machine yet
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([SEEDS])
        chunks = base.stats()["chunks"]
    questions = Path(__file__).resolve().parents[1] / "eval" / "questions" / "seeds.jsonl"
    fake = ["--index", postgres_url, "--model", "hashing-256", "--limit", "3"]
    assert main(["eval", str(questions), *fake, "--out", str(tmp_path / "run")]) == 0
    assert re.search(rf"{chunks}/{chunks} \[.*vectors", capsys.readouterr().err)


def test_server_down_is_a_one_line_error_without_the_password() -> None:
    url = f"postgresql://verbatim:hunter2@127.0.0.1:{free_port(POSTGRES_PORTS)}/verbatim"
    with pytest.raises(rag.RagError) as raised:
        rag.open(url, embedder=rag.HashingEmbedder(256))
    message = str(raised.value)
    assert "cannot connect to PostgreSQL at postgresql://verbatim@127.0.0.1:" in message
    assert "hunter2" not in message and "\n" not in message


def test_a_shown_url_keeps_the_schema_it_names_and_drops_every_password(postgres_url: str) -> None:
    from rag.storage.engine import public_location

    shown = public_location(
        "postgresql://sam:hunter2@db:5433/kb?options=-csearch_path%3Dteam_a&PassWord=x2&sslmode=require"
    )
    assert shown == "postgresql://sam@db:5433/kb?options=-csearch_path%3Dteam_a&sslmode=require"
    with (
        rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base,
        pytest.raises(rag.RagError) as raised,
    ):
        base.documents()
    # The command the message suggests reaches this collection's schema, not the database's first.
    assert f"--index {postgres_url}`" in str(raised.value)


def test_a_database_without_an_index_is_not_found_for_readers(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        assert not base.exists and base.is_empty()
        with pytest.raises(rag.RagError, match="no index in postgresql://"):
            base.documents()


def test_an_open_reader_sees_documents_another_writer_commits(postgres_url: str) -> None:
    with (
        rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as writer,
        rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as reader,
    ):
        writer.add_texts([rag.TextItem("first.txt", "Otters sleep holding hands.")])
        assert reader.search("otters", mode="lexical")[0].source == "first.txt"
        writer.add_texts([rag.TextItem("second.txt", "Puffins mate for life.")])
        assert reader.search("puffins", mode="lexical")[0].source == "second.txt"
        writer.remove("first.txt")
        assert reader.search("otters", mode="lexical") == []


def test_a_folder_and_a_database_are_served_as_two_collections(tmp_path: Path, postgres_url: str) -> None:
    embedder = rag.HashingEmbedder(256)
    with rag.open(tmp_path / "folder", embedder=embedder) as folder:
        folder.add_texts([rag.TextItem("tea.txt", "Green tea is grown on the hills of Assam.")])
    with rag.open(postgres_url, embedder=embedder) as database:
        database.add_texts(
            [rag.TextItem("coffee.txt", "Coffee beans are the roasted seeds of the Coffea plant.")]
        )
    collections = rag.open_collections({"mine": tmp_path / "folder", "team": postgres_url}, embedder=embedder)
    try:
        answer = collections.select(["mine", "team"]).ask("What are coffee beans?")
        assert answer.answered and answer.citations[0].collection == "team"
        quote = answer.citations[0].quote
        assert (
            collections.base("team").document(quote.document_id).text[quote.start : quote.end] == quote.text
        )
    finally:
        collections.close()


def test_serving_a_database_without_an_index_is_a_one_line_error(postgres_url: str) -> None:
    with pytest.raises(rag.RagError, match="collection team: no index in postgresql://"):
        rag.open_collections({"team": postgres_url}, embedder=rag.HashingEmbedder(256))


def test_check_rebuilds_lost_postings_totals_and_the_hnsw_index(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    with rag.open(postgres_url, settings=HNSW, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(VARIED_TEXTS)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("DELETE FROM chunk_terms WHERE term = 'coffe'")
        connection.execute("UPDATE document_terms SET chunks = chunks + 1")
        connection.execute("DROP INDEX chunks_vector")
    fake = ["--index", postgres_url, "--model", "hashing-256"]
    assert main(["check", *fake]) == 1
    problems = capsys.readouterr().out
    assert "analysed terms or their postings differ" in problems
    assert f"term totals: {len(VARIED_TEXTS)} documents" in problems
    assert "the HNSW index of the chunk vectors is missing" in problems
    assert main(["check", "--repair", *fake]) == 0
    capsys.readouterr()
    assert main(["check", *fake, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["healthy"]
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        assert base.search("coffee", mode="lexical")[0].source == "coffee.md"


def test_check_reports_a_damaged_document_and_never_guesses_its_text(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(VARIED_TEXTS)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("UPDATE documents SET text = text || '!' WHERE source = 'tea.txt'")
    assert main(["check", "--repair", "--index", postgres_url, "--model", "hashing-256"]) == 1
    out = capsys.readouterr().out
    assert "document tea.txt: its text does not match its id" in out
    assert "could not repair: document tea.txt: remove it and ingest its file again" in out


def has_hnsw_index(url: str) -> bool:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return bool(connection.execute("SELECT to_regclass('chunks_vector') IS NOT NULL").fetchone()[0])


def test_a_new_index_keeps_no_hnsw_and_optimize_builds_or_drops_it_on_request(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(VARIED_TEXTS)
        chunks = base.stats()["chunks"]
    assert not has_hnsw_index(postgres_url)  # readers follow the journal: no graph to keep at each write
    fake = ["--index", postgres_url, "--model", "hashing-256"]
    assert main(["check", *fake]) == 0  # no HNSW index is not a problem here
    capsys.readouterr()
    assert main(["optimize", *fake, "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["kind"] == "faiss" and described["vectors"] == chunks
    assert described["follower"]["vectors"] == chunks
    with rag.open(postgres_url, settings=HNSW, embedder=rag.HashingEmbedder(256)) as reader:
        assert reader.stats()["vector_index"].startswith("exact scan: the database keeps no HNSW index")
        assert reader.search("coffee beans", mode="dense")[0].source == "coffee.md"

    assert main(["optimize", *fake, "--postgres-vectors", "hnsw", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert has_hnsw_index(postgres_url) and described["kind"] == "hnsw"
    assert described["recall@10"] == 1.0  # a few chunks: HNSW finds them all
    assert described["recall_queries"] == chunks  # one probe a chunk, up to 300
    with rag.open(postgres_url, settings=HNSW, embedder=rag.HashingEmbedder(256)) as reader:
        assert reader.stats()["vector_index"] == "hnsw"
        reader.add_texts([rag.TextItem("late.txt", "Late notes about cocoa beans roasted in Ghana.")])
    assert main(["check", *fake]) == 0
    capsys.readouterr()

    assert main(["optimize", *fake, "--postgres-vectors", "faiss"]) == 0
    said = capsys.readouterr().out
    assert "vector index: none in the database" in said
    assert f"this machine's FAISS index following the database: exact, {chunks + 1} vectors" in said
    assert not has_hnsw_index(postgres_url)
    assert main(["check", *fake]) == 0
    with rag.open(tmp_path / "folder", embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(VARIED_TEXTS[:1])
    folder = ["--index", str(tmp_path / "folder"), "--model", "hashing-256"]
    assert main(["optimize", *folder, "--postgres-vectors", "hnsw"]) == 2
    assert "--postgres-vectors is for a PostgreSQL index" in capsys.readouterr().err


def test_copy_carries_grants_and_page_positions_both_ways(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sample_files import positioned_pdf

    from rag.access import Actor, CollectionRule

    pdf = tmp_path / "ferry.pdf"
    pdf.write_bytes(
        positioned_pdf(
            [[(72, 700, "F1", "Inspectors found no rust."), (72, 400, "F2", "The ferry leaves at noon.")]]
        )
    )
    folder, back = tmp_path / "index", tmp_path / "back"
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        base.ingest([pdf])
        base.set_readers("notes/amber.txt", frozenset({"finance"}), Actor("admin"))
        document = base.document(str(pdf))
        start = document.text.index("The ferry")
        boxes = base.highlight_boxes(document.id, 1, (start, start + 9))
    assert boxes
    assert main(["copy", str(folder), postgres_url]) == 0
    assert "not copied" not in capsys.readouterr().out  # grants and page positions were
    assert main(["copy", postgres_url, str(back)]) == 0
    staff = Actor("sam", frozenset({"staff"}), "person")
    for location in (postgres_url, back):
        with rag.open(location, embedder=rag.HashingEmbedder(256)) as base:
            assert base.readers_of("notes/amber.txt") == frozenset({"finance"})
            assert base.highlight_boxes(document.id, 1, (start, start + 9)) == boxes
            view = base.for_reader(staff, CollectionRule(read=frozenset({"staff"})))
            assert all(passage.source != "notes/amber.txt" for passage in view.search("amber river", k=10))
            assert base.check().is_healthy, base.check().problems


def test_copy_keeps_who_set_each_grant_and_when_both_ways(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from rag.access import Actor
    from rag.storage.sqlite_errors import DATABASE_NAME

    # A session time zone other than UTC must not move the times (libpq reads PGTZ).
    monkeypatch.setenv("PGTZ", "America/New_York")
    folder, back = tmp_path / "index", tmp_path / "back"
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        base.set_readers("notes/amber.txt", frozenset({"finance"}), Actor("ada@example.org"))
        base.set_readers("notes/fjord.txt", frozenset({"finance", "staff"}), Actor("bo@example.org"))
    with sqlite3.connect(folder / DATABASE_NAME) as connection:  # set long before the copy
        connection.execute(
            "UPDATE document_grants SET set_at = '2026-01-02 03:04:05' WHERE set_by LIKE 'ada%'"
        )
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        original = base.store.export_grants()
    assert [(grant.source, grant.set_by) for grant in original] == [
        ("notes/amber.txt", "ada@example.org"),
        ("notes/fjord.txt", "bo@example.org"),
    ]
    assert original[0].set_at == "2026-01-02 03:04:05"
    assert main(["copy", str(folder), postgres_url]) == 0
    assert main(["copy", postgres_url, str(back)]) == 0
    for location in (postgres_url, back):
        with rag.open(location, embedder=rag.HashingEmbedder(256)) as base:
            assert base.store.export_grants() == original
            assert base.readers_of("notes/fjord.txt") == frozenset({"finance", "staff"})


def test_a_write_that_fails_midway_keeps_the_old_document_and_the_next_write_works(postgres_url: str) -> None:
    # The statements of a document go out pipelined; one failing after the old version was
    # deleted (PostgreSQL refuses a NUL character in text) must roll all of them back.
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("a.txt", "Apples grow on trees in the orchard.")])
        stored = next(base.store.export_documents(256))
        broken = dataclasses.replace(
            stored, chunks=(dataclasses.replace(stored.chunks[0], text="Apples\x00"), *stored.chunks[1:])
        )
        with pytest.raises(rag.StorageError):
            base.store.import_document(broken)
        kept = next(base.store.export_documents(256))
        assert (kept.id, kept.text, [chunk.text for chunk in kept.chunks]) == (
            stored.id,
            stored.text,
            [chunk.text for chunk in stored.chunks],
        )
        assert base.search("apples", mode="lexical")[0].text.startswith("Apples")
        base.add_texts([rag.TextItem("b.txt", "Pears grow on trees in the orchard.")])
        assert base.stats()["documents"] == 2


def test_a_role_that_only_reads_asks_and_counts_and_is_told_why_it_cannot_write(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tea.txt").write_text("Green tea is made from the unoxidised leaves of Camellia sinensis.\n")
    fake = ["--model", "hashing-256"]
    assert main(["ingest", str(tmp_path / "tea.txt"), "--index", postgres_url, *fake]) == 0
    with reading_role(postgres_url) as reader:  # the grants docs/storage.md gives a role that only reads
        _reads_but_cannot_write(tmp_path, postgres_url, reader, capsys)


def _reads_but_cannot_write(
    tmp_path: Path, postgres_url: str, reader: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = ["--model", "hashing-256"]
    capsys.readouterr()
    assert main(["ask", "What is green tea made from?", "--index", reader, *fake]) == 0
    assert "Camellia sinensis" in capsys.readouterr().out
    assert main(["stats", "--index", reader, *fake]) == 0
    assert main(["check", "--index", reader, *fake]) == 0
    capsys.readouterr()
    assert main(["remove", str(tmp_path / "tea.txt"), "--index", reader, *fake]) == 2
    err = capsys.readouterr().err
    assert "permission denied" in err and "GRANT SELECT ON ALL SEQUENCES" in err
    assert "read-only-secret" not in err and len(err.strip().splitlines()) == 1
    _served_by_a_reader(tmp_path, reader, str(tmp_path / "tea.txt"))
    logged = capsys.readouterr().err
    assert "refused by the database" in logged and "GRANT SELECT ON ALL SEQUENCES" in logged
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        assert base.store.counts()[0] == 1  # nothing was removed


def _served_by_a_reader(tmp_path: Path, reader: str, source: str) -> None:
    """`rag serve` over the read-only role: asks are answered, a write key's removal is a clear 403."""
    import urllib.parse

    import httpx

    from eval.ports import listen_port
    from rag.serve import RunningServer, ServeConfig

    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"team-writer-key-00001": {"read": ["team"], "write": ["team"]}}))
    config = ServeConfig({"team": reader}, keys_file=keys, port=listen_port())
    server = RunningServer(config, embedder=rag.HashingEmbedder(256))
    try:
        headers = {"Authorization": "Bearer team-writer-key-00001"}
        asked = httpx.post(
            server.url + "/v1/ask",
            json={"question": "What is green tea made from?"},
            headers=headers,
            timeout=60,
        )
        assert asked.status_code == 200 and "Camellia sinensis" in asked.text
        shown = httpx.get(server.url + "/v1/documents", headers=headers, timeout=60).json()
        name = next(
            document["source"] for document in shown["data"] if document["source"].endswith("tea.txt")
        )
        removed = httpx.delete(
            server.url + "/v1/documents/" + urllib.parse.quote(name), headers=headers, timeout=60
        )
        # 403, saying why without the operator's database URL or role (the server's log has them).
        assert removed.status_code == 403, removed.text
        assert removed.json()["error"]["code"] == "read_only"
        assert "only read" in removed.json()["error"]["message"]
        assert "postgresql://" not in removed.text and source not in removed.text
    finally:
        server.stop()


def test_an_index_is_made_in_the_first_schema_of_the_search_path_not_found_in_a_later_one(
    postgres_url: str, postgres_server: str
) -> None:
    import uuid

    import psycopg
    from psycopg import sql

    embedder = rag.HashingEmbedder(64)
    with rag.open(postgres_url, embedder=embedder) as base:  # an index in the fixture's schema
        base.add_texts([rag.TextItem("first.txt", "The first team keeps its notes here.")])
    first_schema = schema_of(postgres_url)
    second_schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(second_schema)))
    try:
        # The second team's URL names its own schema first, the first team's after it.
        second_url = f"{postgres_server}?options=-csearch_path%3D{second_schema},{first_schema},public"
        with rag.open(second_url, embedder=embedder) as base:
            base.add_texts([rag.TextItem("second.txt", "The second team keeps its notes apart.")])
            assert [document.source for document in base.documents()] == ["second.txt"]
        with rag.open(postgres_url, embedder=embedder) as base:
            assert [document.source for document in base.documents()] == ["first.txt"]
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(second_schema)))


def _stored(location: str | Path) -> list[rag.storage.ExportedDocument]:
    with rag.open(location, embedder=rag.HashingEmbedder(256)) as base:
        return [dataclasses.replace(document, added_at="") for document in base.store.export_documents(256)]


def test_a_document_written_to_postgres_stores_the_rows_a_folder_stores(
    tmp_path: Path, postgres_url: str
) -> None:
    # Every kind of row a write makes (chunks with their vectors and terms, sentence vectors in
    # their order, structure spans, page positions, locations), written by ingest into each engine.
    from sample_files import positioned_pdf

    pdf = tmp_path / "ferry.pdf"
    pdf.write_bytes(
        positioned_pdf(
            [[(72, 700, "F1", "Inspectors found no rust."), (72, 400, "F2", "The ferry leaves at noon.")]]
        )
    )
    for location in (tmp_path / "index", postgres_url):
        with rag.open(location, embedder=rag.HashingEmbedder(256)) as base:
            base.add_texts(VARIED_TEXTS)
            base.ingest([pdf])
    folder, database = _stored(tmp_path / "index"), _stored(postgres_url)
    assert [document.source for document in database] == [document.source for document in folder]
    for written, expected in zip(database, folder, strict=True):
        assert dataclasses.replace(written, chunks=()) == dataclasses.replace(expected, chunks=())
        assert [dataclasses.replace(chunk, vector=None) for chunk in written.chunks] == [
            dataclasses.replace(chunk, vector=None) for chunk in expected.chunks
        ]
        for chunk, same in zip(written.chunks, expected.chunks, strict=True):
            assert chunk.vector.tobytes() == same.vector.tobytes()
    assert any(document.sentence_vectors for document in database)
    assert any(document.structure for document in database)
    assert any(document.page_boxes for document in database)


def test_a_location_given_twice_keeps_its_last_label_as_in_a_folder(
    tmp_path: Path, postgres_url: str
) -> None:
    import numpy as np

    from rag.storage.store import NewDocument
    from rag.types import Location, TextSpan

    text = "Chapter one begins here. Chapter two follows it."
    document = NewDocument(
        "book.txt",
        "Book",
        text,
        "hash",
        len(text),
        [TextSpan(0, len(text), text)],
        np.eye(1, 256, dtype=np.float32),
        locations=(Location(0, "first label"), Location(25, "chapter two"), Location(0, "last label")),
    )
    for location in (tmp_path / "index", postgres_url):
        with rag.open(location, embedder=rag.HashingEmbedder(256)) as base:
            base.add_texts(RIVER_TEXTS[:1])  # makes the index
            base.store.put_document(document)
            assert base.document("book.txt").locations == (
                Location(0, "last label"),
                Location(25, "chapter two"),
            )


def test_writing_without_pgvector_on_the_search_path_is_a_one_line_error(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS[:1])
    without_public = postgres_url.replace("%2Cpublic", "").replace(",public", "")
    assert without_public != postgres_url
    with rag.open(without_public, embedder=rag.HashingEmbedder(256)) as base:
        with pytest.raises(rag.StorageError, match="vector type is not on the search_path"):
            base.add_texts(RIVER_TEXTS[1:2])
        assert base.stats()["documents"] == 1
