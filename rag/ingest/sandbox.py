"""Run a file loader in a child process with limits on time and memory.

A hostile or broken file (a decompression bomb, a page that never finishes parsing) can
then cost one child process, never the application. One helper process is started on first
use; it holds the parsers already imported and forks a fresh child per file (a few
milliseconds), so every file gets the whole limits and nothing it leaves behind.

Requests and results cross the pipes as JSON and raw bytes: nothing is ever unpickled.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from rag.child_process import limit_memory, read_frame, write_frame
from rag.display import format_bytes
from rag.errors import DocumentError
from rag.ingest.formats import parser_modules
from rag.types import LoadedFile, Location, PageGeometry

Loader = Callable[..., LoadedFile]


@dataclass(frozen=True)
class ParseLimits:
    """What one file may cost to turn into text (Settings.parse_seconds, parse_memory_mb)."""

    seconds: float = 300.0
    memory_bytes: int = 2048 * 1024 * 1024
    # Text a child may hand back: a few KB of compressed file can expand to gigabytes within the
    # child's memory, which the parent would then hold. 10,000 chunks (the per-file limit) of
    # 2,000 characters: more would be refused after chunking anyway.
    max_chars: int = 20_000_000


def run_bounded(
    loader: Loader, name: str, data: bytes, limits: ParseLimits, options: dict[str, Any] | None = None
) -> LoadedFile:
    """loader(name, data, **options) in a child process; a DocumentError when it exceeds the limits
    or dies. The loader must be a module-level function; options must be JSON values."""
    if not hasattr(os, "fork"):
        return loader(name, data, **(options or {}))  # no fork (Windows): in-process, unbounded
    request = {
        "loader": f"{loader.__module__}:{loader.__qualname__}",
        "name": name,
        "options": options or {},
        "seconds": limits.seconds,
        "memory_bytes": limits.memory_bytes,
        "max_chars": limits.max_chars,
    }
    reply = _HELPER.ask(request, data)
    if "ok" in reply:
        fields = reply["ok"]
        return LoadedFile(
            **{
                **fields,
                "page_starts": tuple(fields["page_starts"]),
                "warnings": tuple(fields["warnings"]),
                "locations": tuple(Location(*location) for location in fields.get("locations", ())),
                "geometry": tuple(PageGeometry.from_dict(page) for page in fields.get("geometry", ())),
            }
        )
    raise DocumentError(_problem(name, reply, limits))


def _problem(name: str, reply: dict[str, Any], limits: ParseLimits) -> str:
    if "error" in reply:
        return str(reply["error"])
    if reply.get("timeout"):
        return (
            f"{name}: extracting its text took longer than {limits.seconds:g} s and was stopped;"
            " split the file, or raise the limit (RAG_PARSE_SECONDS)"
        )
    if reply.get("memory"):
        return (
            f"{name}: extracting its text needed more than {format_bytes(limits.memory_bytes)} of memory"
            " and was stopped (a decompression bomb?); split the file, or raise the limit (RAG_PARSE_MEMORY_MB)"
        )
    return f"{name}: the text extractor stopped unexpectedly ({reply.get('crashed')}); check the file"


class _Helper:
    """The long-lived process that forks one bounded child per file."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def ask(self, request: dict[str, Any], data: bytes) -> dict[str, Any]:
        with self._lock:
            for attempt in range(2):
                process = self._running()
                try:
                    assert process.stdin is not None and process.stdout is not None
                    write_frame(process.stdin, json.dumps(request).encode(), data)
                    return dict(json.loads(read_frame(process.stdout)[0]))
                except (OSError, ValueError):
                    self._process = None  # the helper itself died: start another, once
                    if attempt:
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """End the helper: closing its input ends its loop."""
        process, self._process = self._process, None
        if process is not None:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            code = "from rag.ingest.sandbox import serve; serve()"
            # The helper finds modules where this process does (as multiprocessing's children do).
            environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
            self._process = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
                env=environment,
            )
        return self._process


_HELPER = _Helper()
atexit.register(_HELPER.stop)


def serve() -> None:
    """The helper's loop: read a request, fork a bounded child, send back what it produced."""
    # Every fork starts with the parsers imported: a child pays for none of their imports.
    for module in parser_modules():
        importlib.import_module(module)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a parser that prints must not write into the reply pipe
    while True:
        try:
            header, data = read_frame(requests)
        except (OSError, ValueError):
            return  # the parent has gone
        reply = _run_child(json.loads(header), data)
        write_frame(replies, json.dumps(reply).encode(), b"")


def _run_child(request: dict[str, Any], data: bytes) -> dict[str, Any]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: limits first, then the untrusted parse
        os.close(read_end)
        _child(request, data, write_end)
    os.close(write_end)
    reply = _collect(read_end, pid, float(request["seconds"]))
    os.close(read_end)
    return reply


def _child(request: dict[str, Any], data: bytes, write_end: int) -> None:
    try:
        limit_memory(int(request["memory_bytes"]))
        cpu = int(float(request["seconds"])) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        module, _, function = str(request["loader"]).partition(":")
        loader = getattr(importlib.import_module(module), function)
        loaded = loader(request["name"], data, **request["options"])
        limit = int(request["max_chars"])
        reply: dict[str, Any] = (
            {"ok": asdict(loaded)}
            if len(loaded.text) <= limit
            else {"error": _too_much_text(request["name"], len(loaded.text), limit)}
        )
    except DocumentError as error:
        reply = {"error": str(error)}
    except MemoryError:
        reply = {"memory": True}
    except Exception as error:  # noqa: BLE001 - any parser failure is this file's problem alone
        reply = {"error": f"{request['name']} could not be read ({type(error).__name__}: {error})"}
    try:
        payload = json.dumps(reply).encode()
    except MemoryError:
        payload = b'{"memory": true}'
    with os.fdopen(write_end, "wb") as stream:
        stream.write(payload)
    os._exit(0)


def _too_much_text(name: str, length: int, limit: int) -> str:
    return (
        f"{name}: its text is {length:,} characters, over the {limit:,} a file may have"
        " (a decompression bomb?); split the file"
    )


def _collect(read_end: int, pid: int, seconds: float) -> dict[str, Any]:
    """Read the child's reply; kill it when the wall-clock limit passes first."""
    chunks: list[bytes] = []
    deadline = _now() + seconds
    while True:
        ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - _now()))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"timeout": True}
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if chunks:
        return dict(json.loads(b"".join(chunks)))
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        return {"timeout": True}
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return {"memory": True}  # the kernel's out-of-memory killer
    return {"crashed": f"exit status {status}"}


def _now() -> float:
    return time.monotonic()
