"""A reader's FAISS index following a PostgreSQL index's change journal (rag/storage/database/follower.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from conftest import RIVER_TEXTS, reading_role
from test_database_schema import TO_FORMAT_2, format_version

import rag
from rag.access import Actor
from rag.storage.database import follower
from rag.storage.database.schema import FORMAT_VERSION

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[1]
FAISS = rag.Settings(postgres_vectors="faiss")
ENVIRONMENT = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
# A writer in its own process: add or remove notes given on the command line.
WRITER = (
    "import sys, rag\n"
    "url, action, *names = sys.argv[1:]\n"
    "with rag.open(url, embedder=rag.HashingEmbedder(256)) as base:\n"
    "    for name in names:\n"
    "        if action == 'add':\n"
    "            base.add_texts([rag.TextItem(name, f'{name} is a note about otters and {name} rivers.')])\n"
    "        else:\n"
    "            base.remove(name)\n"
)


@pytest.fixture(autouse=True)
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where followers save their built index: the test's own folder."""
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / follower.CACHE_FOLDER


def write(url: str, action: str, *names: str) -> None:
    subprocess.run(
        [sys.executable, "-c", WRITER, url, action, *names], env=ENVIRONMENT, check=True, timeout=240
    )


def chunk_ids(url: str) -> set[int]:
    with psycopg.connect(url, autocommit=True) as connection:
        return {int(row[0]) for row in connection.execute("SELECT id FROM chunks")}


def followed_ids(vectors: follower.DatabaseVectors) -> set[int]:
    """Every chunk id the follower's (exact) index holds, found by asking for more than it has."""
    _, row_ids = vectors.search(np.ones((1, vectors.dimension), dtype=np.float32) / 16, 10_000)
    return {int(found) for found in row_ids[0] if found != -1}


def test_a_reader_finds_a_document_another_process_adds_and_never_one_it_removed(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as writer:
        writer.add_texts(RIVER_TEXTS)
    with rag.open(postgres_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as reader:
        assert isinstance(reader.retriever.vectors, follower.DatabaseVectors)
        assert reader.search("When does the cedar river flood?", mode="dense")
        write(postgres_url, "add", "walrus.txt")
        committed = time.monotonic()
        while not any(p.source == "walrus.txt" for p in reader.search("walrus otters", k=10, mode="dense")):
            assert time.monotonic() - committed < 1.0, "the follower did not see the new document"
            time.sleep(0.01)
        write(postgres_url, "remove", "walrus.txt")
        assert all(p.source != "walrus.txt" for p in reader.search("walrus otters", k=50, mode="dense"))
        assert followed_ids(reader.retriever.vectors) == chunk_ids(postgres_url)  # type: ignore[arg-type]
        stats = reader.stats()
        assert stats["vector_index"] == "faiss follower, exact" and stats["vector_journal_position"] > 0
    with rag.open(postgres_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as writer:
        described = writer.optimize()["follower"]
        assert described["kind"] == "exact" and described["vectors"] == len(chunk_ids(postgres_url))


def test_every_view_of_a_reader_shares_one_follower(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as writer:
        writer.add_texts(RIVER_TEXTS)
    with rag.open(postgres_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as reader:
        sam = Actor("sam", frozenset({"staff"}), "person")
        views = [reader.for_reader(sam) for _ in range(2)]  # one a request, as rag serve makes them
        assert views[0].retriever.vectors is views[1].retriever.vectors is reader.retriever.vectors


def test_journal_numbers_follow_commit_order_not_the_order_of_the_writes(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as writer:
        writer.add_texts(RIVER_TEXTS[:1])
    copy = (
        'INSERT INTO chunks (document_key, start, "end", text, terms, length, vector)'
        ' SELECT document_key, start, "end", text, terms, length, vector FROM chunks LIMIT 1 RETURNING id'
    )
    with psycopg.connect(postgres_url) as first, psycopg.connect(postgres_url) as second:
        early = first.execute(copy).fetchone()  # written first, committed last
        late = second.execute(copy).fetchone()
        second.commit()  # must not wait for the first: only the commits' tails take turns
        first.commit()
        assert early is not None and late is not None and early[0] < late[0]
        numbers = dict(
            first.execute(
                "SELECT chunk_id, seq FROM vector_journal WHERE chunk_id = ANY(%s)", ([early[0], late[0]],)
            ).fetchall()
        )
    assert numbers[late[0]] < numbers[early[0]]


def test_a_follower_ends_with_the_chunks_two_concurrent_writers_leave(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store = base.engine_store()
        vectors = follower.DatabaseVectors(store, 256, approximate_above=50_000)  # type: ignore[arg-type]
        followed_ids(vectors)
        stop = threading.Event()

        def follow() -> None:
            while not stop.is_set():
                followed_ids(vectors)

        following = threading.Thread(target=follow)
        following.start()
        try:
            writers = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        WRITER,
                        postgres_url,
                        "add",
                        *[f"{name}/{i}.txt" for i in range(25)],
                    ],
                    env=ENVIRONMENT,
                )
                for name in ("first", "second")
            ]
            write(postgres_url, "remove", *[text.source for text in RIVER_TEXTS[:2]])
            for process in writers:
                assert process.wait(timeout=240) == 0
        finally:
            stop.set()
            following.join()
        assert vectors.position > 0
        assert followed_ids(vectors) == chunk_ids(postgres_url)


def test_scoped_search_equals_brute_force_over_the_scope(postgres_url: str) -> None:
    texts = [
        rag.TextItem(f"note{i}.txt", f"Note {i} about river {i % 7} and valley {i % 5}.") for i in range(60)
    ]
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(texts)
        store = base.engine_store()
        keys = frozenset(
            key for key, source, _ in store.document_rows() if source.endswith(("1.txt", "4.txt"))
        )  # type: ignore[attr-defined]
        scope = store.scope_of(keys)  # type: ignore[attr-defined]
        stored = store.chunk_vectors(scope.chunk_ids.tolist(), 256)
        ids = np.array(sorted(stored))
        matrix = np.stack([stored[int(found)] for found in ids])
        queries = rag.HashingEmbedder(256).embed(["river 3 valley", "note 14", "valley 0"])
        exact = follower.DatabaseVectors(store, 256, approximate_above=50_000)  # type: ignore[arg-type]
        scores, row_ids = exact.search(queries, 5, scope)
        brute = queries @ matrix.T
        assert np.allclose(scores, np.sort(brute, axis=1)[:, ::-1][:, :5], atol=1e-5)  # the best five
        position = {int(found): column for column, found in enumerate(ids)}
        found_scores = [[brute[row, position[int(found)]] for found in row_ids[row]] for row in range(3)]
        assert np.allclose(scores, found_scores, atol=1e-5)  # and the chunks that score them
        approximate = follower.DatabaseVectors(store, 256, approximate_above=10)  # type: ignore[arg-type]
        _, found = approximate.search(queries, 5, scope)
        assert approximate.kind == "ivf-sq8" and set(found.ravel()) - {-1} <= set(ids.tolist())


def test_a_reader_of_format_2_searches_hnsw_until_a_writer_upgrades_it(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in TO_FORMAT_2:
            connection.execute(statement)
    with reading_role(postgres_url) as reader_url:
        with rag.open(reader_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as reader:
            assert reader.retriever.vectors.kind == "hnsw"
            assert reader.search("cedar river flood", mode="dense")
        assert format_version(postgres_url) == "2"
        with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as writer:
            writer.add_texts([rag.TextItem("walrus.txt", "Walruses rest on the ice.")])
        assert format_version(postgres_url) == str(FORMAT_VERSION)
        # Its SELECT was granted before the journal was made: it keeps HNSW, and answers.
        with rag.open(reader_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as reader:
            assert reader.retriever.vectors.kind == "hnsw"
            assert reader.search("walruses ice", k=1, mode="dense")[0].source == "walrus.txt"
    with (
        reading_role(postgres_url) as reader_url,
        rag.open(reader_url, settings=FAISS, embedder=rag.HashingEmbedder(256)) as reader,
    ):
        vectors = reader.retriever.vectors
        assert isinstance(vectors, follower.DatabaseVectors)
        assert reader.search("walruses ice", k=1, mode="dense")[0].source == "walrus.txt"
        assert followed_ids(vectors) == chunk_ids(postgres_url)
        write(postgres_url, "remove", "walrus.txt")
        assert all(p.source != "walrus.txt" for p in reader.search("walruses ice", k=50, mode="dense"))


def test_check_finds_a_disabled_journal_trigger_and_repair_makes_it_again(postgres_url: str) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        assert base.check().is_healthy
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute("ALTER TABLE chunks DISABLE TRIGGER vector_journal_append")
        found = base.check()
        assert any("journals vector changes" in problem for problem in found.problems), found.problems
        repaired = base.check(repair=True)
        assert any("journals vector changes made again" in line for line in repaired.repaired)
        assert base.check().is_healthy
        before = chunk_ids(postgres_url)
        base.add_texts([rag.TextItem("walrus.txt", "Walruses rest on the ice.")])
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            journalled = {int(row[0]) for row in connection.execute("SELECT chunk_id FROM vector_journal")}
        assert chunk_ids(postgres_url) - before <= journalled


def test_a_follower_grown_past_the_exact_size_is_rebuilt_beside_the_one_in_use(postgres_url: str) -> None:
    notes = [
        rag.TextItem(f"note{i}.txt", f"Note {i} about river {i % 7} and valley {i % 5}.") for i in range(90)
    ]
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(notes[:30])
        vectors = follower.DatabaseVectors(base.engine_store(), 256, approximate_above=50)  # type: ignore[arg-type]
        assert followed_ids(vectors) == chunk_ids(postgres_url) and vectors.kind == "exact"
        base.add_texts(notes[30:])
        deadline = time.monotonic() + 60
        while vectors.kind != "ivf-sq8":  # searches go on, on the exact index, while it builds
            assert followed_ids(vectors) == chunk_ids(postgres_url)
            assert time.monotonic() < deadline, "never rebuilt"
            time.sleep(0.05)
        base.remove("note3.txt")
        assert followed_ids(vectors) == chunk_ids(postgres_url) and len(chunk_ids(postgres_url)) == 89


def test_a_restarted_follower_takes_its_saved_index_and_catches_up_unless_the_journal_started_again(
    postgres_url: str, cache_folder: Path
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store: Any = base.engine_store()
        first = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        followed_ids(first)
        assert len(list(cache_folder.glob("*/vectors.faiss"))) == 1
        base.add_texts([rag.TextItem("walrus.txt", "Walruses rest on the ice.")])
        base.remove(RIVER_TEXTS[0].source)
        restarted = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert followed_ids(restarted) == chunk_ids(postgres_url)
        assert restarted.describe()["built_at"] == first.describe()["built_at"]
        assert restarted._build is not None and first._build is not None
        assert restarted._build.id == first._build.id  # loaded, not built again
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute("TRUNCATE vector_journal RESTART IDENTITY")  # numbers start again
        base.add_texts([rag.TextItem(f"seal{i}.txt", f"Seal {i} sleeps on the rocks.") for i in range(12)])
        again = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        assert followed_ids(again) == chunk_ids(postgres_url)
        assert again._build is not None and again._build.id != first._build.id  # built afresh


def test_every_vector_is_read_whole_by_the_binary_copy_however_its_blocks_are_cut(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as writer:
        writer.add_texts(RIVER_TEXTS)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        expected = {
            int(row[0]): np.asarray(row[1], dtype=np.float32)
            for row in connection.execute("SELECT id, vector::real[] FROM chunks")
        }
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY (SELECT id, vector FROM chunks) TO STDOUT (FORMAT BINARY)") as copy,
        ):
            copied = b"".join(bytes(block) for block in copy)
        read = np.concatenate([ids for ids, _ in follower.read_vectors(connection, 256)])
        some = sorted(expected)[::2]
        sample = follower._vectors_of(connection, some, 256)  # what an IVF index is trained on
    assert sorted(map(bytes, sample)) == sorted(bytes(expected[found]) for found in some)
    assert len(expected) > 3
    monkeypatch.setattr(follower, "BATCH", 2)  # batches end inside the stream, not only at its end
    for size in (1, 5, 64, len(copied)):
        blocks = [copied[start : start + size] for start in range(0, len(copied), size)]
        batches = [
            follower._batch(rows, 256) for rows in follower._copied_rows(blocks, follower._binary_rows(256))
        ]
        ids = np.concatenate([batch[0] for batch in batches])
        vectors = np.concatenate([batch[1] for batch in batches])
        assert sorted(ids.tolist()) == sorted(expected)
        for found, vector in zip(ids, vectors, strict=True):
            assert np.array_equal(vector, expected[int(found)])  # bit for bit
    assert sorted(read.tolist()) == sorted(expected)
    with pytest.raises(rag.StorageError, match="ended before their last row"):
        list(follower._copied_rows([copied[:-7]], follower._binary_rows(256)))
    with pytest.raises(rag.StorageError, match="not the \\(id, vector\\) rows"):
        [follower._batch(rows, 128) for rows in follower._copied_rows([copied], follower._binary_rows(256))]


def test_a_server_builds_its_follower_before_serving_and_keeps_it_caught_up_while_idle(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eval.ports import listen_port
    from rag.serve import RunningServer, ServeConfig, following

    monkeypatch.setattr(following, "FOLLOW_SECONDS", 0.05)
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as writer:
        writer.add_texts(RIVER_TEXTS)
    server = RunningServer(
        ServeConfig({"team": postgres_url}, port=listen_port()), embedder=rag.HashingEmbedder(256)
    )
    try:
        vectors = server.service.collections.base("team").retriever.vectors
        assert isinstance(vectors, follower.DatabaseVectors)
        built = vectors.describe()
        assert built["kind"] == "exact" and built["vectors"] == len(
            chunk_ids(postgres_url)
        )  # before any question
        write(postgres_url, "add", "walrus.txt")
        deadline = time.monotonic() + 10
        while vectors.describe()["vectors"] == built["vectors"]:  # no question asked meanwhile
            assert time.monotonic() < deadline, "the idle server did not catch up with the journal"
            time.sleep(0.02)
        assert followed_ids(vectors) == chunk_ids(postgres_url)
    finally:
        server.stop()
