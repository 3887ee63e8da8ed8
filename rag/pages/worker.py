"""Pages drawn in a long-lived child process, bounded in time and memory.

A page whose drawing never ends (a content stream of millions of operations: pdfium parses a
whole page before it draws any of it, and nothing in between can be interrupted) or that needs
gigabytes then costs the child, never the server: past DRAW_SECONDS the child is killed and the
next page starts another. One child is kept (not one forked per page), so a normal page costs
only the trip through two pipes. Requests and PNGs cross as length-prefixed JSON and bytes.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
from dataclasses import asdict
from typing import Any

from rag.child_process import limit_memory, read_frame, write_frame
from rag.errors import DocumentError, NotFoundError
from rag.pages.render import PageRequest, draw_page

DRAW_SECONDS = 10.0
DRAW_MEMORY_BYTES = 1024 * 1024 * 1024
STARTUP_SECONDS = 60.0
# Pages drawn at once, each in its own child (the machine this was measured on has 2 cores).
DRAWERS = 2


class PageDrawer:
    """One child process drawing pages, one at a time, restarted when it is killed or dies."""

    def __init__(self, seconds: float = DRAW_SECONDS, memory_bytes: int = DRAW_MEMORY_BYTES) -> None:
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def draw(self, data: bytes, request: PageRequest) -> bytes:
        """The PNG of draw_page(data, request), drawn in the child; DocumentError past the limits."""
        if not hasattr(os, "fork"):
            return draw_page(data, request)  # no fork (Windows): in-process, unbounded
        header = json.dumps(asdict(request)).encode()
        with self._lock:
            process = self._running()
            assert process.stdin is not None and process.stdout is not None
            try:
                write_frame(process.stdin, header, data)
                reply, png = self._reply(process)
            except (OSError, ValueError):
                self._stop(kill=True)
                reply, png = {"crashed": True}, b""
        if "ok" in reply:
            return png
        if "error" in reply:
            error = NotFoundError if reply.get("not_found") else DocumentError
            raise error(str(reply["error"]))
        if reply.get("timeout"):
            raise DocumentError(
                f"page {request.page} of {request.name} took longer than {self.seconds:g} s to draw and was stopped"
            )
        if reply.get("memory"):
            raise DocumentError(
                f"page {request.page} of {request.name} needed more than"
                f" {self.memory_bytes // 1024 // 1024:,} MB to draw and was stopped"
            )
        raise DocumentError(
            f"page {request.page} of {request.name} could not be drawn: the page drawer stopped"
        )

    def _reply(self, process: subprocess.Popen[bytes]) -> tuple[dict[str, Any], bytes]:
        """The child's answer, or a timeout (the child killed) when it takes over the limit."""
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], self.seconds)
        if not ready:
            self._stop(kill=True)
            return {"timeout": True}, b""
        header, png = read_frame(process.stdout)
        return dict(json.loads(header)), png

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            code = f"from rag.pages.worker import serve; serve({self.memory_bytes})"
            # The child finds modules where this process does (as multiprocessing's children do).
            environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
            self._process = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
                env=environment,
            )
            # The time limit is the drawing's: wait for the child's imports before any page starts.
            assert self._process.stdout is not None
            ready, _, _ = select.select([self._process.stdout], [], [], STARTUP_SECONDS)
            if not ready or read_frame(self._process.stdout)[0] != b'{"ready": true}':
                self._stop(kill=True)
                raise DocumentError(f"the page drawer did not start within {STARTUP_SECONDS:g} s")
        return self._process

    def _stop(self, kill: bool = False) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if kill:
            process.kill()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """End the child: closing its input ends its loop."""
        with self._lock:
            self._stop()


class DrawerPool:
    """A few PageDrawers (started when first needed): a page that takes its whole time limit
    holds up one of them, not every page drawn meanwhile."""

    def __init__(self, size: int = DRAWERS, seconds: float = DRAW_SECONDS) -> None:
        self._drawers = [PageDrawer(seconds) for _ in range(size)]
        self._free: queue.SimpleQueue[PageDrawer] = queue.SimpleQueue()
        for drawer in self._drawers:
            self._free.put(drawer)

    @property
    def seconds(self) -> float:
        """The time limit a page has to be drawn in."""
        return self._drawers[0].seconds

    @seconds.setter
    def seconds(self, value: float) -> None:
        for drawer in self._drawers:
            drawer.seconds = value

    def draw(self, data: bytes, request: PageRequest) -> bytes:
        """PageDrawer.draw in the first drawer that is free."""
        drawer = self._free.get()
        try:
            return drawer.draw(data, request)
        finally:
            self._free.put(drawer)

    def stop(self) -> None:
        """End every drawer's child."""
        for drawer in self._drawers:
            drawer.stop()


PAGE_DRAWER = DrawerPool()
atexit.register(PAGE_DRAWER.stop)


def serve(memory_bytes: int) -> None:
    """The child's loop: read a request and the file's bytes, draw, send back the PNG."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
    limit_memory(memory_bytes)
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing printed may go into the reply pipe
    write_frame(replies, b'{"ready": true}', b"")
    while True:
        try:
            header, data = read_frame(requests)
        except (OSError, ValueError):
            return  # the parent has gone
        fields = json.loads(header)
        request = PageRequest(**{**fields, "boxes": tuple(tuple(box) for box in fields["boxes"])})
        png = b""
        try:
            png = draw_page(data, request)
            reply: dict[str, Any] = {"ok": True}
        except NotFoundError as error:
            reply = {"error": str(error), "not_found": True}
        except DocumentError as error:
            reply = {"error": str(error)}
        except MemoryError:
            reply = {"memory": True}
        except Exception as error:  # noqa: BLE001 - a broken page is that page's problem alone
            reply = {
                "error": f"page {request.page} of {request.name} could not be drawn ({type(error).__name__})"
            }
        write_frame(replies, json.dumps(reply).encode(), png)
