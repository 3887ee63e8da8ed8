"""The ONNX export cache: keyed by the model's files, rebuilt when they change, safe against kills.

These tests replace the torch trace and the quantizer by file writes, so they are fast and
test only the cache; tests/test_onnx.py exports the real model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.embedding import export
from rag.embedding.export import GRAPH_FILE, cached_graph, export_graph, graph_for, model_cache_key
from rag.embedding.layout import ModelLayout, read_layout


def make_model(folder: Path) -> Path:
    """A model folder with the files the cache key reads (the contents are never run)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"hidden_size": 8, "layer_norm_eps": 1e-12}))
    (folder / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}])
    )
    (folder / "tokenizer.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"\x00" * 1024)
    return folder


@pytest.fixture
def layout(tmp_path: Path) -> ModelLayout:
    return read_layout(make_model(tmp_path / "model"))


@pytest.fixture
def fake_exporter(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Count exports; each writes small stand-in graphs instead of tracing with torch."""
    exports: list[Path] = []

    def trace(model_path: Path, destination: Path) -> list[str]:
        exports.append(destination)
        destination.write_bytes(b"fp32 graph")
        return ["input_ids", "attention_mask"]

    monkeypatch.setattr(export, "trace_to_onnx", trace)
    monkeypatch.setattr(export, "quantize_int8", lambda source, target: target.write_bytes(b"int8 graph"))
    monkeypatch.setattr(export, "save_optimized", lambda source, target: target.write_bytes(b"optimized"))
    return exports


def test_second_use_finds_the_cached_graph_without_exporting(
    layout: ModelLayout, tmp_path: Path, fake_exporter: list[Path]
) -> None:
    messages: list[str] = []
    first = graph_for(layout, tmp_path / "cache", messages.append, "tiny")
    second = graph_for(layout, tmp_path / "cache", messages.append, "tiny")
    assert first == second and first.name == GRAPH_FILE
    assert len(fake_exporter) == 1
    assert any("exporting tiny" in message for message in messages), messages


def test_changed_config_gets_a_new_export(
    layout: ModelLayout, tmp_path: Path, fake_exporter: list[Path]
) -> None:
    first = graph_for(layout, tmp_path / "cache", print)
    config = layout.model_path / "config.json"
    config.write_text(config.read_text().replace("1e-12", "1e-11"))
    assert cached_graph(layout, tmp_path / "cache") is None
    second = graph_for(layout, tmp_path / "cache", print)
    assert second != first and len(fake_exporter) == 2


def test_changed_weights_of_the_same_size_change_the_key(layout: ModelLayout, tmp_path: Path) -> None:
    before = model_cache_key(layout, tmp_path)
    weights = layout.model_path / "model.safetensors"
    stat = weights.stat()
    weights.write_bytes(b"\x01" * 1024)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert model_cache_key(layout, tmp_path) != before


def test_folder_without_manifest_is_never_used(layout: ModelLayout, tmp_path: Path) -> None:
    folder = tmp_path / "cache" / model_cache_key(layout, tmp_path / "cache")
    folder.mkdir(parents=True)
    (folder / GRAPH_FILE).write_bytes(b"truncated")
    assert cached_graph(layout, tmp_path / "cache") is None


def test_failed_export_leaves_nothing_behind(
    layout: ModelLayout, tmp_path: Path, fake_exporter: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(source: Path, target: Path) -> None:
        target.write_bytes(b"half a graph")
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "quantize_int8", fail)
    with pytest.raises(KeyboardInterrupt):
        export_graph(layout, tmp_path / "cache", print)
    assert cached_graph(layout, tmp_path / "cache") is None
    assert not list((tmp_path / "cache").glob(".*.partial"))


def test_export_killed_mid_way_is_redone_and_its_leftovers_removed(
    layout: ModelLayout, tmp_path: Path, fake_exporter: list[Path]
) -> None:
    cache = tmp_path / "cache"
    killer = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from rag.embedding import export
        from rag.embedding.layout import read_layout

        def trace(model_path, destination):
            destination.write_bytes(b"fp32 graph")
            return ["input_ids"]

        export.trace_to_onnx = trace
        export.save_optimized = lambda source, target: target.write_bytes(b"optimized")
        export.quantize_int8 = lambda source, target: os.kill(os.getpid(), signal.SIGKILL)
        export.export_graph(read_layout(Path({str(layout.model_path)!r})), Path({str(cache)!r}), print)
        """
    )
    result = subprocess.run([sys.executable, "-c", killer], check=False, capture_output=True)
    assert result.returncode == -signal.SIGKILL
    assert list(cache.glob(".*.partial")), "the killed export left its staging folder"
    assert cached_graph(layout, cache) is None
    graph = graph_for(layout, cache, print)
    assert cached_graph(layout, cache) == graph
    assert not list(cache.glob(".*.partial"))


def test_staging_folder_of_a_live_export_is_left_alone(
    layout: ModelLayout, tmp_path: Path, fake_exporter: list[Path]
) -> None:
    cache = tmp_path / "cache"
    live = cache / f".{model_cache_key(layout, cache)}.1.partial"  # pid 1 is always alive
    live.mkdir(parents=True)
    graph_for(layout, cache, print)
    assert live.is_dir()


def test_unwritable_cache_is_a_clear_error(layout: ModelLayout, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(export.OnnxUnsupportedError, match="RAG_CACHE_DIR"):
        export_graph(layout, blocked / "cache", print)


def test_full_disk_during_export_is_a_clear_error_and_leaves_nothing(
    layout: ModelLayout, tmp_path: Path, fake_exporter: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(source: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "save_optimized", disk_full)
    with pytest.raises(export.OnnxUnsupportedError, match="No space left"):
        export_graph(layout, tmp_path / "cache", print)
    assert not list((tmp_path / "cache").glob(".*.partial"))
    assert cached_graph(layout, tmp_path / "cache") is None
