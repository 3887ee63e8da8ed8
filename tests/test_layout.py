"""Reading a model folder for the ONNX backend: what it can reproduce, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.embedding.layout import OnnxUnsupportedError, read_layout
from rag.errors import ModelLoadError

TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}


def model_folder(tmp_path: Path, modules: list[dict[str, object]], pooling: dict[str, object]) -> Path:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": 512}))
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (folder / "tokenizer.json").write_text("{}")
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    return folder


def test_sentence_transformers_folder_gives_pooling_and_length(tmp_path: Path) -> None:
    pooling = {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}
    layout = read_layout(model_folder(tmp_path, [TRANSFORMER, POOLING], pooling))
    assert (layout.pooling, layout.max_seq_length) == ("cls", 128)


def test_newer_single_key_pooling_config_is_read(tmp_path: Path) -> None:
    layout = read_layout(model_folder(tmp_path, [TRANSFORMER, POOLING], {"pooling_mode": "max"}))
    assert layout.pooling == "max"


def test_plain_transformer_folder_pools_by_mean_and_uses_the_position_limit(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, [], {})
    (folder / "modules.json").unlink()
    (folder / "sentence_bert_config.json").unlink()
    layout = read_layout(folder)
    assert (layout.pooling, layout.max_seq_length) == ("mean", 512)


def test_dense_module_is_refused_with_the_torch_advice(tmp_path: Path) -> None:
    dense = {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    folder = model_folder(tmp_path, [TRANSFORMER, POOLING, dense], {"pooling_mode_mean_tokens": True})
    with pytest.raises(OnnxUnsupportedError, match=r"'Dense'.*--backend torch"):
        read_layout(folder)


def test_two_pooling_modes_are_refused(tmp_path: Path) -> None:
    both = {"pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": True}
    with pytest.raises(OnnxUnsupportedError, match="pooling"):
        read_layout(model_folder(tmp_path, [TRANSFORMER, POOLING], both))


def test_missing_fast_tokenizer_is_refused(tmp_path: Path) -> None:
    folder = model_folder(tmp_path, [TRANSFORMER, POOLING], {"pooling_mode_mean_tokens": True})
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelLoadError, match=r"tokenizer\.json"):
        read_layout(folder)


def test_folder_that_is_no_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OnnxUnsupportedError, match="not a sentence-transformers model folder"):
        read_layout(tmp_path)
