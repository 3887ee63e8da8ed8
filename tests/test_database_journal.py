"""Format 4's upkeep of a PostgreSQL index's change journal (rag/storage/database/journal.py): pruning
with a floor followers respect, a journalled TRUNCATE, and a journal lock per schema."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import RIVER_TEXTS
from test_follower import FAISS, chunk_ids, followed_ids, write

import rag
from rag.cli.main import main
from rag.storage.database import follower, journal, schema

pytestmark = pytest.mark.postgres
WALRUS = rag.TextItem("walrus.txt", "Walruses rest on the ice of the northern sea.")
# Everything written so far, made older than the journal keeps.
BACKDATE = "UPDATE vector_journal SET written_at = written_at - interval '30 days'"
COPY_A_CHUNK = (
    'INSERT INTO chunks (document_key, start, "end", text, terms, length, vector)'
    ' SELECT document_key, start, "end", text, terms, length, vector FROM chunks LIMIT 1'
)


@pytest.fixture(autouse=True)
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where followers save their built index: the test's own folder."""
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / follower.CACHE_FOLDER


def execute(url: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def sources_of(url: str, ids: Any) -> set[str]:
    """The sources of these chunks (-1, a padding id, names none)."""
    listed = ",".join(str(int(found)) for found in ids if found != -1) or "NULL"
    rows = execute(
        url,
        f"SELECT d.source FROM chunks c JOIN documents d ON d.key = c.document_key WHERE c.id IN ({listed})",
    )
    return {row[0] for row in rows}


def test_optimize_prunes_what_is_older_than_a_week_and_keeps_the_last_row(postgres_url: str) -> None:
    with rag.open(postgres_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS[:3])
        execute(postgres_url, BACKDATE)
        base.add_texts(RIVER_TEXTS[3:])  # this week's: kept
        old = execute(
            postgres_url, "SELECT max(seq) FROM vector_journal WHERE written_at < now() - interval '7 days'"
        )
        recent = execute(
            postgres_url, "SELECT count(*) FROM vector_journal WHERE written_at > now() - interval '1 day'"
        )
        described = base.optimize()
        assert described["journal_pruned_upto"] == old[0][0] and described["journal_rows_pruned"] > 0
        assert execute(postgres_url, "SELECT count(*) FROM vector_journal") == recent
        assert base.engine_store().manifest()[journal.PRUNED_KEY] == str(old[0][0])  # type: ignore[attr-defined]
        execute(postgres_url, BACKDATE)  # now all of it is old: the last row stays
        last = execute(postgres_url, "SELECT max(seq) FROM vector_journal")
        again = base.optimize()
        assert execute(postgres_url, "SELECT seq FROM vector_journal") == last
        assert described["journal_pruned_upto"] < again["journal_pruned_upto"] < last[0][0]
        assert base.optimize()["journal_rows_pruned"] == 0  # nothing more to prune: the floor stays
        assert base.check().is_healthy


def test_optimize_keeps_the_days_of_journal_the_settings_give(postgres_url: str) -> None:
    with rag.open(postgres_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS[:3])
        execute(postgres_url, "UPDATE vector_journal SET written_at = written_at - interval '3 days'")
        base.add_texts(RIVER_TEXTS[3:])
        assert base.optimize()["journal_rows_pruned"] == 0  # three days old: within the week
    with rag.open(
        postgres_url, settings=FAISS.replace(journal_days=2.0), embedder=rag.HashingEmbedder(256)
    ) as base:
        three_days_old = execute(
            postgres_url, "SELECT count(*) FROM vector_journal WHERE written_at < now() - interval '2 days'"
        )[0][0]
        assert three_days_old > 0 and base.optimize()["journal_rows_pruned"] == three_days_old


def test_rag_optimize_says_how_much_of_the_journal_it_pruned(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        execute(postgres_url, BACKDATE)
        base.add_texts([WALRUS])
    floor = execute(
        postgres_url, "SELECT max(seq) FROM vector_journal WHERE written_at < now() - interval '7 days'"
    )
    assert main(["optimize", "--index", postgres_url, "--model", "hashing-256"]) == 0
    out = capsys.readouterr().out
    assert f"rows of the change journal, up to number {floor[0][0]:,}" in out, out
    assert main(["check", "--index", postgres_url, "--model", "hashing-256"]) == 0


def test_a_follower_that_fell_behind_a_prune_builds_afresh_and_misses_nothing(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store: Any = base.engine_store()
        behind = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert sources_of(postgres_url, followed_ids(behind)) == {text.source for text in RIVER_TEXTS}
        built = behind._build
        base.add_texts([WALRUS])
        base.remove(RIVER_TEXTS[0].source)
        base.add_texts([rag.TextItem("seal.txt", "Seals sleep on the rocks.")])  # the last row: kept
        execute(postgres_url, BACKDATE)
        pruned = store.prune_vector_journal()
        assert pruned["journal_rows_pruned"] > 0 and pruned["journal_pruned_upto"] > behind.position
        # Only the seal's rows are left past its position: catching up alone would keep the removed
        # document and miss the walrus.
        expected = {text.source for text in RIVER_TEXTS[1:]} | {"walrus.txt", "seal.txt"}
        assert sources_of(postgres_url, followed_ids(behind)) == expected
        assert followed_ids(behind) == chunk_ids(postgres_url)
        assert behind._build is not built and behind.position >= pruned["journal_pruned_upto"]
        query = rag.HashingEmbedder(256).embed(["Walruses rest on the ice"])
        _, row_ids = behind.search(query, 1)
        assert sources_of(postgres_url, row_ids[0]) == {"walrus.txt"}


def test_a_saved_copy_older_than_the_floor_is_not_taken(postgres_url: str, cache_folder: Path) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.create()  # empty: its follower's copy is saved at position 0, naming no row
        store: Any = base.engine_store()
        first = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert followed_ids(first) == set() and first.position == 0
        assert len(list(cache_folder.glob("*/vectors.faiss"))) == 1
        base.add_texts(RIVER_TEXTS)
        execute(postgres_url, BACKDATE)
        base.add_texts([rag.TextItem("seal.txt", "Seals sleep on the rocks.")])
        assert store.prune_vector_journal()["journal_rows_pruned"] > 0
        restarted = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert followed_ids(restarted) == chunk_ids(postgres_url)  # the rivers' rows were pruned
        assert restarted._build is not None and first._build is not None
        assert restarted._build.id != first._build.id  # built afresh, not loaded
        # A copy saved past the floor is still taken, and catches up.
        base.add_texts([WALRUS])
        again = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert followed_ids(again) == chunk_ids(postgres_url)
        assert again._build is not None and again._build.id == restarted._build.id


@pytest.mark.parametrize("truncate", ["TRUNCATE documents CASCADE", "TRUNCATE chunks CASCADE"])
def test_a_truncate_is_journalled_and_a_follower_keeps_no_vector_of_what_it_removed(
    postgres_url: str, truncate: str
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store: Any = base.engine_store()
        vectors = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert len(followed_ids(vectors)) == len(chunk_ids(postgres_url)) > 0
        execute(postgres_url, truncate)
        assert execute(
            postgres_url, f"SELECT count(*) FROM vector_journal WHERE chunk_id = {journal.RESET}"
        ) == [(1,)]
        assert followed_ids(vectors) == set()
        if truncate.startswith("TRUNCATE documents"):
            base.add_texts([WALRUS])
            assert followed_ids(vectors) == chunk_ids(postgres_url) != set()


def test_a_truncate_and_new_rows_in_one_transaction_leave_a_follower_with_the_new_rows(
    postgres_url: str,
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store: Any = base.engine_store()
        vectors = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        followed_ids(vectors)
        with psycopg.connect(postgres_url) as connection:
            connection.execute("CREATE TEMP TABLE kept AS SELECT * FROM chunks LIMIT 2")
            connection.execute("TRUNCATE chunks CASCADE")
            connection.execute("INSERT INTO chunks SELECT * FROM kept")
        assert followed_ids(vectors) == chunk_ids(postgres_url) and len(chunk_ids(postgres_url)) == 2


def test_writers_of_two_schemas_do_not_wait_on_each_others_journal_lock(
    postgres_url: str, other_postgres_url: str
) -> None:
    for url in (postgres_url, other_postgres_url):
        with rag.open(url, embedder=rag.HashingEmbedder(256)) as base:
            base.add_texts(RIVER_TEXTS[:1])
    with (
        psycopg.connect(postgres_url) as holding,
        psycopg.connect(other_postgres_url) as other,
        psycopg.connect(postgres_url) as same,
    ):
        holding.execute(COPY_A_CHUNK)
        holding.execute("SET CONSTRAINTS vector_journal_append IMMEDIATE")  # its journal lock is taken now
        other.execute("SET lock_timeout = '5s'")
        other.execute(COPY_A_CHUNK)
        started = time.monotonic()
        other.commit()  # another schema's writer commits at once
        assert time.monotonic() - started < 2
        same.execute("SET lock_timeout = '300ms'")
        same.execute(COPY_A_CHUNK)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            same.commit()  # one of the same schema still waits: numbers stay in commit order
        holding.commit()
    assert len(execute(other_postgres_url, "SELECT seq FROM vector_journal")) == len(
        chunk_ids(other_postgres_url)
    )


# What format 4 added, taken away again (the trigger function back to format 3's): format 3.
TO_FORMAT_3 = (
    "DROP TRIGGER vector_journal_reset ON chunks",
    "DROP FUNCTION vector_journal_reset()",
    "ALTER TABLE vector_journal DROP COLUMN written_at",
    schema.FORMAT_3,
    "DELETE FROM manifest WHERE key = 'vector_journal_pruned'",
    "UPDATE manifest SET value = '3' WHERE key = 'format_version'",
)


def test_a_writer_upgrades_format_3_in_place_and_a_reader_of_it_never_prunes(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
    for statement in TO_FORMAT_3:
        execute(postgres_url, statement)
    journalled = execute(postgres_url, "SELECT seq, chunk_id FROM vector_journal ORDER BY seq")
    with rag.open(postgres_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as reader:
        found = reader.check()
        assert any("format version 3" in problem for problem in found.problems), found.problems
        assert reader.engine_store().prune_vector_journal() == {}  # type: ignore[attr-defined]
        assert reader.search("cedar river flood", mode="dense")
    assert execute(postgres_url, "SELECT value FROM manifest WHERE key = 'format_version'") == [("3",)]
    with rag.open(postgres_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as writer:
        writer.add_texts([WALRUS])
        assert execute(postgres_url, "SELECT value FROM manifest WHERE key = 'format_version'") == [("4",)]
        assert (
            execute(
                postgres_url,
                f"SELECT seq, chunk_id FROM vector_journal WHERE seq <= {journalled[-1][0]} ORDER BY seq",
            )
            == journalled
        )
        assert writer.check().is_healthy
        execute(postgres_url, "TRUNCATE documents CASCADE")
        assert writer.search("walrus ice", mode="dense") == []


def test_a_format_3_trigger_still_numbering_after_the_upgrade_numbers_alone(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS[:1])
    with psycopg.connect(postgres_url) as straggler, psycopg.connect(postgres_url) as writer:
        # What format 3's trigger takes; one that waited for it while the upgrade held it runs on.
        straggler.execute("SELECT pg_advisory_xact_lock(%s)", (schema.JOURNAL_LOCK,))
        writer.execute("SET lock_timeout = '300ms'")
        writer.execute(COPY_A_CHUNK)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            writer.commit()  # format 4's numbering waits: the two never number side by side
        straggler.commit()
        writer.execute(COPY_A_CHUNK)
        writer.commit()
    assert len(execute(postgres_url, "SELECT seq FROM vector_journal")) == len(chunk_ids(postgres_url))


def test_check_finds_a_disabled_truncate_trigger_or_a_missing_written_at_and_repair_mends_them(
    postgres_url: str,
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        execute(postgres_url, "ALTER TABLE chunks DISABLE TRIGGER vector_journal_reset")
        found = base.check()
        assert any("TRUNCATE" in problem for problem in found.problems), found.problems
        repaired = base.check(repair=True)
        assert any("journals vector changes made again" in line for line in repaired.repaired)
        assert base.check().is_healthy
        execute(postgres_url, "TRUNCATE documents CASCADE")
        assert execute(postgres_url, "SELECT chunk_id FROM vector_journal ORDER BY seq DESC LIMIT 1") == [
            (0,)
        ]
        execute(postgres_url, "ALTER TABLE vector_journal DROP COLUMN written_at")
        assert any("written_at" in problem for problem in base.check().problems)
        base.check(repair=True)
        assert base.check().is_healthy and base.optimize()["journal_rows_pruned"] == 0


def test_a_follower_whose_journal_was_numbered_anew_below_its_position_builds_afresh(
    postgres_url: str,
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store: Any = base.engine_store()
        vectors = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert followed_ids(vectors) == chunk_ids(postgres_url) and vectors.position > 10
        execute(postgres_url, "TRUNCATE vector_journal RESTART IDENTITY")  # by hand: numbers start again
        base.remove(RIVER_TEXTS[0].source)  # journalled as number 1..n, below the follower's position
        assert followed_ids(vectors) == chunk_ids(postgres_url)


def test_check_finds_a_journal_numbered_below_its_floor_and_repair_numbers_on_past_it(
    postgres_url: str,
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        execute(postgres_url, BACKDATE)
        base.add_texts([WALRUS])
        floor = base.optimize()["journal_pruned_upto"]
        execute(postgres_url, "TRUNCATE vector_journal RESTART IDENTITY")
        base.remove(WALRUS.source)
        found = base.check()
        assert any("below its pruned floor" in problem for problem in found.problems), found.problems
        repaired = base.check(repair=True)
        assert any("numbered on past its pruned floor" in line for line in repaired.repaired)
        assert base.check().is_healthy
        assert execute(
            postgres_url, "SELECT seq, chunk_id FROM vector_journal ORDER BY seq DESC LIMIT 1"
        ) == [(floor + 1, journal.RESET)]
        store: Any = base.engine_store()
        vectors = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert followed_ids(vectors) == chunk_ids(postgres_url) and vectors.position == floor + 1
        base.add_texts([WALRUS])
        assert followed_ids(vectors) == chunk_ids(postgres_url)


def test_a_follower_searching_while_writers_write_and_the_journal_is_pruned_ends_with_every_chunk(
    postgres_url: str,
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store: Any = base.engine_store()
        vectors = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        followed_ids(vectors)
        builds = set()
        stop = threading.Event()

        def follow() -> None:
            while not stop.is_set():
                followed_ids(vectors)
                builds.add(vectors._build.id if vectors._build is not None else None)
                time.sleep(0.1)  # behind the pruning, now and then

        def prune() -> None:
            while not stop.is_set():
                store.prune_vector_journal(keep_days=0)  # all but the last row, again and again
                time.sleep(0.005)
            store.close()

        threads = [threading.Thread(target=follow), threading.Thread(target=prune)]
        for thread in threads:
            thread.start()
        try:
            write(postgres_url, "add", *[f"note{i}.txt" for i in range(20)])
            write(postgres_url, "remove", *[text.source for text in RIVER_TEXTS[:3]], "note7.txt")
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert followed_ids(vectors) == chunk_ids(postgres_url)
        assert len(builds) > 1  # it fell behind a prune, and built afresh


def test_a_server_whose_role_may_write_prunes_the_journal_and_one_that_may_only_read_leaves_it(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import reading_role

    from eval.ports import listen_port
    from rag.serve import RunningServer, ServeConfig, following

    monkeypatch.setattr(following, "FOLLOW_SECONDS", 0.05)
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as writer:
        writer.add_texts(RIVER_TEXTS)
        execute(postgres_url, BACKDATE)
        writer.add_texts([WALRUS])  # this week's: kept
    count = "SELECT count(*) FROM vector_journal"
    (before,) = execute(postgres_url, count)[0]
    recent = execute(
        postgres_url, "SELECT count(*) FROM vector_journal WHERE written_at > now() - interval '1 day'"
    )
    with reading_role(postgres_url) as reader_url:
        server = RunningServer(
            ServeConfig({"team": reader_url}, port=listen_port()), embedder=rag.HashingEmbedder(256)
        )
        try:
            time.sleep(1.0)  # twenty rounds of catching up
            vectors = server.service.collections.base("team").retriever.vectors
            assert isinstance(vectors, follower.DatabaseVectors) and vectors.describe()["vectors"] > 0
        finally:
            server.stop()
    assert execute(postgres_url, count)[0][0] == before
    assert "cannot catch up" not in capsys.readouterr().err
    server = RunningServer(
        ServeConfig({"team": postgres_url}, port=listen_port()), embedder=rag.HashingEmbedder(256)
    )
    try:
        deadline = time.monotonic() + 10
        while execute(postgres_url, count) != recent:
            assert time.monotonic() < deadline, "the server did not prune the journal"
            time.sleep(0.05)
    finally:
        server.stop()
    assert (
        int(execute(postgres_url, f"SELECT value FROM manifest WHERE key = '{journal.PRUNED_KEY}'")[0][0]) > 0
    )
