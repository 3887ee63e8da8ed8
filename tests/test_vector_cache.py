"""Eviction of the followers' saved FAISS copies (rag/storage/database/vector_cache.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import RIVER_TEXTS

import rag
from rag.storage.database import follower, vector_cache

DAY = 86_400.0


def saved_copy(root: Path, name: str, size: int, days_unused: float) -> Path:
    """A copy's folder holding `size` bytes, last used `days_unused` days ago."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "vectors.faiss").write_bytes(b"\0" * size)
    (folder / "vectors.json").write_text("{}")
    used = time.time() - days_unused * DAY
    os.utime(folder, (used, used))
    return folder


def test_copies_unused_for_a_month_go_and_recent_ones_stay(tmp_path: Path) -> None:
    old = saved_copy(tmp_path, "old", 1000, 45)
    recent = saved_copy(tmp_path, "recent", 1000, 3)
    kept = saved_copy(tmp_path, "kept", 1000, 60)  # the one just saved or loaded: never evicted
    assert vector_cache.evict(tmp_path, keep=kept) == [old]
    assert not old.exists() and recent.exists() and kept.exists()


def test_the_least_recently_used_go_until_all_fit_under_the_cap(tmp_path: Path) -> None:
    copies = [saved_copy(tmp_path, f"copy{age}", 10_000, age) for age in (1, 2, 3, 4)]
    removed = vector_cache.evict(tmp_path, limits=vector_cache.Limits(max_bytes=25_000))
    assert removed == [copies[3], copies[2]]  # oldest first, until 2 x 10 kB (and their json) fit
    assert copies[0].exists() and copies[1].exists()


def test_a_copy_in_use_is_not_removed(tmp_path: Path) -> None:
    old = saved_copy(tmp_path, "old", 1000, 45)
    with vector_cache.in_use(old):
        assert vector_cache.evict(tmp_path) == []
        assert (old / "vectors.faiss").read_bytes() == b"\0" * 1000
    assert vector_cache.evict(tmp_path) == []  # in_use marked it used: now it is recent
    assert old.exists()


def test_a_copy_another_process_reads_is_not_removed(tmp_path: Path) -> None:
    old = saved_copy(tmp_path, "old", 1000, 45)
    holder = (
        "import sys, time\nfrom pathlib import Path\nfrom rag.storage.database import vector_cache\n"
        "with vector_cache.in_use(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(30)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holder, str(old)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        used = time.time() - 45 * DAY
        os.utime(old, (used, used))
        assert vector_cache.evict(tmp_path) == [] and old.exists()
    finally:
        process.kill()
        process.wait()
    assert vector_cache.evict(tmp_path) == [old]


@pytest.mark.postgres
def test_a_follower_saving_or_loading_its_copy_evicts_stale_ones_and_marks_its_own_used(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "cache" / follower.CACHE_FOLDER
    stale = saved_copy(root, "0" * 24, 1000, 40)
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store: Any = base.engine_store()
        follower.DatabaseVectors(store, 256, approximate_above=50_000).sync()
        (own,) = [folder for folder in root.iterdir() if folder.is_dir()]
        assert not stale.exists() and own != stale
        month_ago = time.time() - 29 * DAY
        os.utime(own, (month_ago, month_ago))
        another = saved_copy(root, "1" * 24, 1000, 31)
        restarted = follower.DatabaseVectors(store, 256, approximate_above=50_000)
        restarted.sync()
        assert restarted.describe()["vectors"] > 0
        assert own.stat().st_mtime > time.time() - 60  # loaded: used now
        assert not another.exists()  # a load evicts too


def test_the_limits_come_from_the_settings_and_nonsense_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAG_VECTOR_CACHE_DAYS", "2")
    monkeypatch.setenv("RAG_VECTOR_CACHE_GB", "0.5")
    settings = rag.Settings.from_env()
    limits = vector_cache.Limits.of(settings.vector_cache_days, settings.vector_cache_gb)
    assert limits == vector_cache.Limits(2.0, 512 * 1024**2)
    assert vector_cache.Limits.of(None, None) == vector_cache.DEFAULT_LIMITS
    monkeypatch.setenv("RAG_VECTOR_CACHE_GB", "0")
    with pytest.raises(
        rag.SettingsError, match=r"^vector_cache_gb \(RAG_VECTOR_CACHE_GB\) must be a number above 0"
    ):
        rag.Settings.from_env()


@pytest.mark.postgres
def test_a_knowledge_base_s_follower_evicts_by_the_days_its_settings_give(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "cache" / follower.CACHE_FOLDER
    three_days = saved_copy(root, "0" * 24, 1000, 3)  # kept by the 30 days of the default
    settings = rag.Settings(postgres_vectors="faiss", vector_cache_days=2)
    with rag.open(postgres_url, settings=settings, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        assert base.follow_database()
    assert not three_days.exists()


@pytest.mark.postgres
def test_followers_starting_at_once_on_one_machine_build_once_and_the_others_take_the_copy(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    builds = []
    real_build = follower.build

    def slow_build(*args: Any) -> Any:  # as a big index's build is: the others start meanwhile
        builds.append(threading.current_thread().name)
        time.sleep(1.0)
        return real_build(*args)

    monkeypatch.setattr(follower, "build", slow_build)
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts(RIVER_TEXTS)
        store: Any = base.engine_store()
        followers = [follower.DatabaseVectors(store, 256, approximate_above=50_000) for _ in range(3)]
        threads = [threading.Thread(target=each.sync, name=f"server-{n}") for n, each in enumerate(followers)]
        for thread in threads:
            thread.start()
            time.sleep(0.2)
        for thread in threads:
            thread.join(60)
        assert builds == ["server-0"]
        assert [each.from_saved_copy for each in followers] == [False, True, True]
        assert {each.describe()["vectors"] for each in followers} == {store.counts()[1]}
