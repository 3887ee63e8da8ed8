"""What the ONNX backend needs to know about a sentence-transformers model folder, read from its JSON files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import ModelLoadError

_SUPPORTED_MODULES = {"Transformer", "Pooling", "Normalize"}
POOLING_MODES = ("mean", "cls", "max")
TORCH_ADVICE = "use the torch backend (--backend torch or RAG_EMBEDDING_BACKEND=torch)"


class OnnxUnsupportedError(ModelLoadError):
    """The model cannot run on ONNX Runtime here; the message names the torch backend instead."""


@dataclass(frozen=True)
class ModelLayout:
    """Where a model's transformer and tokenizer are, how long an input may be, how it pools."""

    model_path: Path
    transformer_dir: Path
    max_seq_length: int
    pooling: str


def read_layout(model_path: Path) -> ModelLayout:
    """Read modules.json and the module configs; refuse models this backend cannot reproduce."""
    if not (model_path / "config.json").is_file() and not (model_path / "modules.json").is_file():
        raise OnnxUnsupportedError(
            f"{model_path} is not a sentence-transformers model folder (no config.json or modules.json): "
            + TORCH_ADVICE
        )
    transformer_dir, pooling_dir = model_path, None
    for module in read_json(model_path / "modules.json", default=[]):
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        if kind not in _SUPPORTED_MODULES:
            raise OnnxUnsupportedError(
                f"the model has a {kind!r} module that the ONNX export does not reproduce: " + TORCH_ADVICE
            )
        if kind == "Transformer":
            transformer_dir = model_path / module.get("path", "")
        elif kind == "Pooling":
            pooling_dir = model_path / module.get("path", "")
    if not (transformer_dir / "tokenizer.json").is_file():
        raise OnnxUnsupportedError(
            f"{transformer_dir} has no tokenizer.json (a fast tokenizer), which the ONNX backend needs: "
            + TORCH_ADVICE
        )
    return ModelLayout(
        model_path=model_path,
        transformer_dir=transformer_dir,
        max_seq_length=_max_seq_length(model_path, transformer_dir),
        pooling=_pooling_mode(pooling_dir),
    )


def _max_seq_length(model_path: Path, transformer_dir: Path) -> int:
    for folder in (transformer_dir, model_path):
        configured = read_json(folder / "sentence_bert_config.json", default={}).get("max_seq_length")
        if configured:
            return int(configured)
    tokenizer_limit = read_json(transformer_dir / "tokenizer_config.json", default={}).get("model_max_length")
    position_limit = read_json(transformer_dir / "config.json", default={}).get("max_position_embeddings")
    # Tokenizer configs without a limit say 1e30.
    limits = [int(limit) for limit in (tokenizer_limit, position_limit) if limit and int(limit) < 1_000_000]
    return min(limits) if limits else 512


def _pooling_mode(pooling_dir: Path | None) -> str:
    if pooling_dir is None:
        return "mean"  # what sentence-transformers adds to a plain transformer folder
    config = read_json(pooling_dir / "config.json", default={})
    if isinstance(config.get("pooling_mode"), str):  # the newer single-key form
        names = [config["pooling_mode"]]
    else:
        modes = [key for key, value in config.items() if key.startswith("pooling_mode_") and value is True]
        names = [
            mode.removeprefix("pooling_mode_").removesuffix("_token").removesuffix("_tokens")
            for mode in modes
        ]
    if len(names) != 1 or names[0] not in POOLING_MODES:
        raise OnnxUnsupportedError(
            f"pooling {names or 'none'} is not one the ONNX backend reproduces "
            f"({', '.join(POOLING_MODES)}): " + TORCH_ADVICE
        )
    return names[0]


def read_json(path: Path, default: Any) -> Any:
    """The parsed JSON file, or default when it is missing or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
