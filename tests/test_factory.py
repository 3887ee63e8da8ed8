"""Which embedder a model name and backend give, and the fall back to torch when ONNX cannot serve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rag
from rag.embedding import bundled_model_path
from rag.embedding.factory import FallbackEmbedder, make_embedder
from rag.embedding.layout import OnnxUnsupportedError, read_layout
from rag.embedding.onnx import OnnxEmbedder


def dense_model(tmp_path: Path) -> Path:
    """A model folder with a Dense module, which the ONNX export does not reproduce."""
    folder = tmp_path / "dense-model"
    folder.mkdir()
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "config.json").write_text("{}")
    return folder


def test_hashing_name_gives_the_test_embedder() -> None:
    assert isinstance(make_embedder("hashing-64"), rag.HashingEmbedder)


def test_torch_backend_gives_sentence_transformers_without_loading_it() -> None:
    embedder = make_embedder(rag.DEFAULT_MODEL, backend="torch")
    assert isinstance(embedder, rag.SentenceTransformerEmbedder)
    assert embedder.backend == "torch"


def test_default_backend_serves_the_bundled_model_with_onnx(tmp_path: Path) -> None:
    embedder = make_embedder(rag.DEFAULT_MODEL, cache_dir=tmp_path)
    assert isinstance(embedder, FallbackEmbedder)
    assert embedder.backend == "onnx"
    assert not list(tmp_path.iterdir()), "nothing is exported before the first embed"


def test_default_backend_falls_back_to_torch_with_a_note(tmp_path: Path) -> None:
    notes: list[str] = []
    embedder = make_embedder(str(dense_model(tmp_path)), report=notes.append)
    assert isinstance(embedder, rag.SentenceTransformerEmbedder)
    assert len(notes) == 1 and "using torch" in notes[0] and "Dense" in notes[0]


def test_onnx_backend_refuses_a_model_it_cannot_serve(tmp_path: Path) -> None:
    with pytest.raises(rag.ModelLoadError, match=r"Dense.*--backend torch"):
        make_embedder(str(dense_model(tmp_path)), backend="onnx")


def test_onnx_backend_refuses_a_model_that_is_nowhere_on_disk() -> None:
    with pytest.raises(OnnxUnsupportedError, match="Hugging Face cache"):
        make_embedder("no-such-org/no-such-model", backend="onnx")


def test_failed_first_export_switches_to_torch_once(tmp_path: Path) -> None:
    def failing_export() -> Path:
        raise OnnxUnsupportedError("torch.onnx cannot export model type 'exotic'")

    layout = read_layout(bundled_model_path())
    notes: list[str] = []
    fallbacks: list[rag.HashingEmbedder] = []

    def fallback() -> rag.HashingEmbedder:
        fallbacks.append(rag.HashingEmbedder(384))
        return fallbacks[-1]

    embedder = FallbackEmbedder(OnnxEmbedder("exotic", layout, failing_export), fallback, notes.append)
    assert embedder.embed(["a question"]).shape == (1, 384)
    assert embedder.embed(["two", "texts"]).shape == (2, 384)
    assert embedder.backend == "hashing"
    assert len(fallbacks) == 1 and len(notes) == 1 and "exotic" in notes[0]
