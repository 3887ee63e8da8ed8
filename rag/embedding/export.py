"""The one-time export of a model to an int8 ONNX graph, cached under a key of the model's files.

The cache folder holds one `<key>/` per model: the key is a sha256 over the weight and config
files and the export recipe, so a changed model gets a new export. An export is written into a
staging folder named after its process and renamed into place when complete, so a killed
export never leaves a folder that looks usable, and the next one removes what it left.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from rag.embedding.layout import TORCH_ADVICE, ModelLayout, OnnxUnsupportedError, read_json
from rag.embedding.onnx import quantize_int8, save_optimized
from rag.embedding.sentence_transformer import trace_to_onnx

# Bump when the export or quantization recipe changes, so that old caches are rebuilt.
EXPORT_FORMAT = "2"
GRAPH_FILE = "model.int8.onnx"
MANIFEST_FILE = "export.json"
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_CONFIG_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json")
_DIGEST_MEMO = "digests.json"
_STAGING_SUFFIX = ".partial"


def model_cache_key(layout: ModelLayout, cache_dir: Path) -> str:
    """sha256 over the model's weight and config files plus the export recipe version."""
    folders = {layout.model_path, layout.transformer_dir}
    files = {
        path
        for folder in folders
        for path in folder.iterdir()
        if path.is_file() and (path.suffix in _WEIGHT_SUFFIXES or path.name in _CONFIG_FILES)
    }
    files |= set(layout.model_path.glob("*_Pooling/config.json"))
    memo = _DigestMemo(cache_dir / _DIGEST_MEMO)
    digest = hashlib.sha256(f"export-format={EXPORT_FORMAT}\n".encode())
    for path in sorted(files):
        digest.update(f"{path.relative_to(layout.model_path)}={memo.file_digest(path)}\n".encode())
    memo.save()
    return digest.hexdigest()


class _DigestMemo:
    """File digests remembered by (path, size, mtime), so a start does not re-read 90 MB of weights."""

    def __init__(self, path: Path) -> None:
        self.path = path
        entries = read_json(path, default={})
        self._entries: dict[str, str] = entries if isinstance(entries, dict) else {}
        self._changed = False

    def file_digest(self, path: Path) -> str:
        """sha256 of the file, from the memo while its size and mtime are unchanged."""
        status = path.stat()
        memo_key = f"{path.resolve()}|{status.st_size}|{status.st_mtime_ns}"
        if memo_key not in self._entries:
            with path.open("rb") as handle:
                self._entries[memo_key] = hashlib.file_digest(handle, "sha256").hexdigest()
            self._changed = True
        return self._entries[memo_key]

    def save(self) -> None:
        """Write the memo atomically; a lost race or a read-only cache only costs a re-hash later."""
        if not self._changed:
            return
        staging = self.path.with_name(f".{_DIGEST_MEMO}.{os.getpid()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            staging.write_text(json.dumps(self._entries), encoding="utf-8")
            os.replace(staging, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                staging.unlink(missing_ok=True)


def cached_graph(layout: ModelLayout, cache_dir: Path) -> Path | None:
    """The int8 graph of this exact model in the cache, or None; never imports torch."""
    key = model_cache_key(layout, cache_dir)
    folder = cache_dir / key
    return folder / GRAPH_FILE if _is_complete(folder, key) else None


def _is_complete(folder: Path, key: str) -> bool:
    manifest = read_json(folder / MANIFEST_FILE, default={})
    return isinstance(manifest, dict) and manifest.get("key") == key and (folder / GRAPH_FILE).is_file()


def graph_for(layout: ModelLayout, cache_dir: Path, report: Callable[[str], None], name: str = "") -> Path:
    """The cached int8 graph of the model, exporting it first when there is none."""
    return cached_graph(layout, cache_dir) or export_graph(layout, cache_dir, report, name)


def export_graph(layout: ModelLayout, cache_dir: Path, report: Callable[[str], None], name: str = "") -> Path:
    """Export the model to an int8 ONNX graph in cache_dir/<key>/ and return the graph's path."""
    key = model_cache_key(layout, cache_dir)
    target = cache_dir / key
    _remove_abandoned_staging(cache_dir)
    staging = cache_dir / f".{key}.{os.getpid()}{_STAGING_SUFFIX}"
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OnnxUnsupportedError(
            f"cannot write the ONNX cache in {cache_dir} ({error.strerror}): set RAG_CACHE_DIR to a "
            "writable folder, or " + TORCH_ADVICE
        ) from error
    started = time.perf_counter()
    report(
        f"exporting {name or layout.model_path} to ONNX Runtime int8, once (about a minute); "
        f"it is cached in {cache_dir}"
    )
    try:
        fp32_graph, int8_graph = staging / "model.fp32.onnx", staging / "model.int8.unoptimized.onnx"
        input_names = trace_to_onnx(layout.model_path, fp32_graph)
        quantize_int8(fp32_graph, int8_graph)
        save_optimized(int8_graph, staging / GRAPH_FILE)
        for intermediate in (fp32_graph, int8_graph):  # only the optimized int8 graph is served
            intermediate.unlink()
        manifest = {"key": key, "model_path": str(layout.model_path), "inputs": input_names}
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for path in staging.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        _move_into_place(staging, target, key)
    except OSError as error:  # a full disk, a cache folder made read-only meanwhile
        raise OnnxUnsupportedError(
            f"could not write the ONNX export into {cache_dir} ({error}): free some space or set "
            "RAG_CACHE_DIR to a writable folder, or " + TORCH_ADVICE
        ) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(f"exported in {time.perf_counter() - started:.0f} s")
    return target / GRAPH_FILE


def _move_into_place(staging: Path, target: Path, key: str) -> None:
    """Rename the finished export into place; a concurrent export that finished first wins."""
    if _is_complete(target, key):
        return
    if target.exists():  # an incomplete folder (not made by an export): never trusted
        shutil.rmtree(target, ignore_errors=True)
    try:
        os.replace(staging, target)
    except OSError:
        if not _is_complete(target, key):
            raise


def _remove_abandoned_staging(cache_dir: Path) -> None:
    """Delete staging folders whose exporting process is gone (killed mid-export)."""
    for folder in cache_dir.glob(f".*{_STAGING_SUFFIX}"):
        pid = folder.name.removesuffix(_STAGING_SUFFIX).rsplit(".", 1)[-1]
        if pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True
