"""The vector index follows SQLite in O(change): edits, other processes, crashes, kinds."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rag
from rag.language.sentences import quotable_texts
from rag.storage.sentence_vectors import text_hash
from rag.storage.vectors import index as vector_index
from rag.storage.vectors.index import VectorIndex
from rag.storage.vectors.recall import recall_at
from rag.storage.vectors.saved import VECTORS_META_NAME, VECTORS_NAME

VOCABULARY = [
    f"{stem}{suffix}"
    for stem in ("river", "stone", "cloud", "field", "ember", "glass")
    for suffix in "abcdefghijklmnopqrstuvwxyz"
]


def random_text(chooser: random.Random, words: int = 40) -> str:
    return " ".join(chooser.choice(VOCABULARY) for _ in range(words)) + "."


def topical_text(chooser: random.Random, words: int = 40) -> str:
    """Mostly words of one of 30 topics: texts that cluster, as real documents do."""
    topic = chooser.randrange(30)
    own = VOCABULARY[topic * 5 : topic * 5 + 5]
    return " ".join(
        chooser.choice(own) if chooser.random() < 0.7 else chooser.choice(VOCABULARY) for _ in range(words)
    )


def documents(
    chooser: random.Random, count: int, text: Any = random_text, prefix: str = "doc"
) -> list[rag.TextItem]:
    """`count` one-chunk documents of random text."""
    return [rag.TextItem(f"{prefix}/{number}", text(chooser)) for number in range(count)]


def index_of(folder: Path, embedder: rag.Embedder, count: int, seed: int) -> Path:
    """An index folder holding `count` random one-chunk documents."""
    with rag.open(folder, embedder=embedder) as base:
        base.add_texts(documents(random.Random(seed), count))
    return folder


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time an index is built from SQLite."""
    builds: list[int] = []
    real_build = vector_index.build

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(vector_index, "build", counting)
    return builds


def edit_at_random(base: rag.KnowledgeBase, chooser: random.Random, edits: int) -> None:
    """Random adds, removals and updates, each committed through the facade like a user's."""
    for step in range(edits):
        sources = base.store.sources()
        action = chooser.choice(("add", "remove", "update"))
        if action == "add" or len(sources) < 5:
            base.add_texts([rag.TextItem(f"added/{step}", random_text(chooser))])
        elif action == "remove":
            base.remove(chooser.choice(sources))
        else:
            base.add_texts([rag.TextItem(chooser.choice(sources), random_text(chooser))])
        if step % 7 == 0:
            base.search(random_text(chooser, 5), mode="dense")  # a reader in between edits


def neighbours(vectors: VectorIndex, store: Any, queries: np.ndarray) -> list[dict[int, float]]:
    scores, row_ids = vectors.search(store, queries, 10)
    return [
        {int(row): round(float(score), 5) for row, score in zip(ids, values, strict=True) if row >= 0}
        for ids, values in zip(row_ids, scores, strict=True)
    ]


def test_fifty_random_edits_leave_exactly_what_a_fresh_build_returns(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    chooser = random.Random(7)
    folder = tmp_path / "index"
    builds = count_builds(monkeypatch)
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts(documents(chooser, 60))
        edit_at_random(base, chooser, 50)
        queries = fake_embedder.embed([random_text(chooser, 6) for _ in range(25)])
        edited = neighbours(base.vectors, base.store, queries)
        assert len(builds) == 1  # built once, then only followed the changes
        # Another process: the saved base plus the journal of what changed since it.
        loaded = neighbours(VectorIndex(folder, 256, base.settings.approximate_above), base.store, queries)
        assert len(builds) == 1
        (folder / VECTORS_NAME).unlink()
        (folder / VECTORS_META_NAME).unlink()
        fresh = neighbours(VectorIndex(folder, 256, base.settings.approximate_above), base.store, queries)
    assert len(builds) == 2
    assert edited == fresh
    assert loaded == fresh


def sentence_rows(base: rag.KnowledgeBase) -> set[tuple[str, int, bytes]]:
    """(source, sentence hash, vector bytes) of every stored sentence vector."""
    return set(
        base.store._connect().execute(
            "SELECT d.source, s.text_hash, s.vector FROM sentence_vectors s"
            " JOIN documents d ON d.key = s.document_key"
        )
    )


def test_edits_keep_the_sentence_vectors_of_the_living_documents_and_rebuilds_leave_them_alone(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    chooser = random.Random(5)
    folder = tmp_path / "index"
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts(documents(chooser, 30))
        edit_at_random(base, chooser, 40)
        expected = {
            (source, text_hash(sentence))
            for source in base.store.sources()
            for sentence in quotable_texts(base.document(source))
        }
        rows = sentence_rows(base)
        orphans = base.store._connect().execute(
            "SELECT count(*) FROM sentence_vectors WHERE document_key NOT IN (SELECT key FROM documents)"
        )
        assert orphans.fetchone()[0] == 0  # removed and replaced documents took theirs along
        assert {(source, hashed) for source, hashed, _ in rows} == expected
        queries = fake_embedder.embed([random_text(chooser, 6) for _ in range(10)])
        before = neighbours(base.vectors, base.store, queries)
        base.optimize()  # the vector index rebuilt from SQLite
        assert neighbours(base.vectors, base.store, queries) == before
        assert base.check().is_healthy
        assert sentence_rows(base) == rows
    (folder / VECTORS_NAME).unlink()
    with rag.open(folder, embedder=fake_embedder) as reopened:
        assert neighbours(reopened.vectors, reopened.store, queries) == before
        assert sentence_rows(reopened) == rows


def test_edited_approximate_index_stays_within_the_recall_target(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    chooser = random.Random(11)
    settings = rag.Settings(approximate_above=1_000)
    with rag.open(tmp_path / "index", settings, embedder=fake_embedder) as base:
        base.add_texts(documents(chooser, 4_000, topical_text))
        edit_at_random(base, chooser, 50)
        stats = base.stats()
        assert stats["vector_index"] == "ivf-sq8"
        assert stats["vector_probes"] < stats["vector_lists"]  # approximate: not every list is read
        queries = fake_embedder.embed([topical_text(chooser, 6) for _ in range(200)])
        _, found = base.vectors.search(base.store, queries, 10)
        exact = VectorIndex(tmp_path / "exact", 256, approximate_above=10**9)
        (tmp_path / "exact").mkdir()
        _, truth = exact.search(base.store, queries, 10)
    assert recall_at(found, truth) >= 0.95


def test_adding_a_document_neither_rebuilds_nor_rewrites_the_saved_index(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = index_of(tmp_path / "index", fake_embedder, 100, seed=3)
    saved = (folder / VECTORS_NAME).stat().st_mtime_ns
    builds = count_builds(monkeypatch)
    with rag.open(folder, embedder=fake_embedder) as base:
        base.add_texts([rag.TextItem("new.txt", "a quartz harbour of unusual lanterns")])
        top = base.search("quartz harbour lanterns", mode="dense")[0]
    assert top.source == "new.txt"
    assert not builds
    assert (folder / VECTORS_NAME).stat().st_mtime_ns == saved  # the change waits in the journal


def test_a_reader_sees_documents_another_process_ingests_without_reloading(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = index_of(tmp_path / "index", fake_embedder, 200, seed=5)
    new_file = tmp_path / "harbour.txt"
    new_file.write_text("The quartz harbour keeps its unusual lanterns lit all winter.")
    with rag.open(folder, embedder=fake_embedder) as reader:
        reader.search("river", mode="dense")  # the reader has its index in memory
        builds = count_builds(monkeypatch)
        loads: list[int] = []
        real_read_base = vector_index.read_base
        monkeypatch.setattr(vector_index, "read_base", lambda path: loads.append(1) or real_read_base(path))
        command = [sys.executable, "-m", "rag", "ingest", str(new_file), "--index", str(folder)]
        subprocess.run([*command, "--model", fake_embedder.name], check=True, capture_output=True)
        top = reader.search("quartz harbour lanterns", mode="dense")[0]
    assert top.source == str(new_file)
    assert not builds and not loads


def test_crossing_the_threshold_builds_an_approximate_index_and_falling_well_below_goes_back(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder
) -> None:
    chooser = random.Random(9)
    with rag.open(tmp_path / "index", rag.Settings(approximate_above=300), embedder=fake_embedder) as base:
        base.add_texts(documents(chooser, 290))
        assert base.stats()["vector_index"] == "exact"
        base.add_texts(documents(chooser, 20, prefix="more"))
        assert base.stats()["vector_index"] == "ivf-sq8"
        for source in base.store.sources()[:100]:
            base.remove(source)
        assert base.stats()["vector_index"] == "ivf-sq8"  # 210 is below 300, but not far below
        for source in base.store.sources()[:80]:
            base.remove(source)
        assert base.stats()["vector_index"] == "exact"


def _keep_editing(folder: Path, action: str) -> None:
    """A child process: append documents, or compact the index, until it is killed."""
    chooser = random.Random(os.getpid())
    with rag.open(folder, embedder=rag.HashingEmbedder(256)) as base:
        for number in range(10**6):
            if action == "append":
                base.add_texts([rag.TextItem(f"appended/{os.getpid()}/{number}", random_text(chooser))])
            else:
                base.optimize()


@pytest.mark.parametrize("action", ["append", "compact"])
def test_sigkill_during_an_append_or_a_compaction_loses_nothing(
    tmp_path: Path, fake_embedder: rag.HashingEmbedder, action: str
) -> None:
    chooser = random.Random(13)
    folder = index_of(tmp_path / "index", fake_embedder, 300, seed=12)
    context = multiprocessing.get_context("fork")
    for delay in (0.3, 0.7, 1.1, 1.6):
        child = context.Process(target=_keep_editing, args=(folder, action))
        child.start()
        time.sleep(delay)
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
    queries = fake_embedder.embed([random_text(chooser, 6) for _ in range(25)])
    with rag.open(folder, embedder=fake_embedder) as base:
        assert base.check().is_healthy
        followed = neighbours(base.vectors, base.store, queries)
        chunks = base.store.counts()[1]
        assert base.vectors.describe()["vectors"] == chunks  # every committed chunk is searchable
        (folder / VECTORS_NAME).unlink()
        fresh = neighbours(VectorIndex(folder, 256, base.settings.approximate_above), base.store, queries)
    assert followed == fresh
