"""Settings from code and RAG_* variables: the embedding backend and thread count."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag


def test_backend_and_threads_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBEDDING_BACKEND", "torch")
    monkeypatch.setenv("RAG_THREADS", "3")
    settings = rag.Settings.from_env()
    assert (settings.embedding_backend, settings.threads) == ("torch", 3)


@pytest.mark.parametrize(("name", "value"), [("RAG_THREADS", "two"), ("RAG_THREADS", "0")])
def test_bad_thread_count_is_a_settings_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(rag.SettingsError, match="RAG_THREADS"):
        rag.Settings.from_env()


def test_unknown_backend_is_a_settings_error() -> None:
    with pytest.raises(rag.SettingsError, match="onnx, torch"):
        rag.Settings(embedding_backend="tensorflow")


def test_cache_folder_follows_rag_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rag.settings import default_cache_dir

    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("RAG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "verbatim"


def test_refusal_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_REFUSAL_SURE_SCORE", "0.65")
    monkeypatch.setenv("RAG_REFUSAL_MIN_COVERAGE", "0.5")
    settings = rag.Settings.from_env()
    rule = rag.refusal_rule(settings, rag.DEFAULT_MODEL, "en")
    calibrated = rag.refusal_rule(rag.Settings(), rag.DEFAULT_MODEL, "en")
    assert (rule.sure_score, rule.min_coverage, rule.threshold) == (0.65, 0.5, calibrated.threshold)


@pytest.mark.parametrize(
    ("name", "value"),
    [("RAG_REFUSAL_MIN_COVERAGE", "1.5"), ("RAG_REFUSAL_SURE_SCORE", "nan"), ("RAG_REFUSAL_THRESHOLD", "-1")],
)
def test_bad_refusal_setting_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(rag.SettingsError, match=name):
        rag.Settings.from_env()


def test_a_refusal_threshold_from_the_environment_refuses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "harbour.txt").write_text("The harbour ferry leaves at seven every morning.\n")
    asked = "When does the harbour ferry leave?"
    with rag.open(tmp_path / "index", embedder=rag.HashingEmbedder(256)) as base:
        base.ingest([tmp_path / "docs"])
        assert base.ask(asked).answered
    monkeypatch.setenv("RAG_REFUSAL_THRESHOLD", "5")
    with rag.open(tmp_path / "index", rag.Settings.from_env(), embedder=rag.HashingEmbedder(256)) as base:
        assert not base.ask(asked).answered
