"""`rag serve --processes N`: N serving processes behind one port, each answering on its own GIL.

The supervisor (the process `rag serve` started) binds the listening socket once and starts N
worker processes (spawned, so none inherits a half-initialised model or thread); each opens the
collections itself, read-only for questions, follows their journal as a single server does,
and serves the shared socket, which the kernel hands each new connection to one of them. The
supervisor loads no model: it waits for every worker to say it is serving, prints the banner,
and replaces a worker that dies. A worker that cannot start (a bad index, a bad keys file) stops
the whole server with that worker's own error: a restart would fail the same way.

uvicorn has a supervisor of its own (`--workers`), but it builds the app from an import string
in each worker and tells a failed start only by an exit code; this one hands each worker its
ServeConfig, reports why a start failed, and runs `--sync` in one worker only.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType

from rag.errors import RagError, SettingsError
from rag.serve.defaults import DEFAULT_HUNG_SECONDS
from rag.serve.service import ServeConfig

# A worker must say it serves within this (loading the model; the first ONNX export can take a minute).
START_SECONDS = 600.0
STOP_SECONDS = 10.0
# More deaths than this within DEATH_WINDOW_SECONDS and the server stops instead of restarting for ever.
MOST_DEATHS = 10
DEATH_WINDOW_SECONDS = 60.0
POLL_SECONDS = 0.2
# A serving worker says it is alive this often, while its event loop ticked within LOOP_STALE_SECONDS;
# one silent for WorkerPlan.hung_seconds (a blocked loop, a stopped process) is killed and replaced.
HEARTBEAT_SECONDS = 1.0
LOOP_STALE_SECONDS = 2.0
LISTEN_BACKLOG = 2048


@dataclass(frozen=True)
class WorkerPlan:
    """What every worker is started with: the config, the hook that mounts the UI (by name), and
    where the processes share what one process keeps in memory (recent answers, for feedback)."""

    config: ServeConfig
    mount_name: str | None = None
    shared_folder: str = ""
    hung_seconds: float = DEFAULT_HUNG_SECONDS  # silent this long while serving: killed and replaced


@dataclass
class _Worker:
    slot: int
    process: BaseProcess
    report: Connection
    last_alive: float = 0.0  # when it last said it was alive (monotonic); 0 until it serves


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening, which worker processes can share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise SettingsError(
            f"cannot listen on {host}:{port} ({error.strerror}); choose another --port or --host"
        ) from error
    listener.listen(LISTEN_BACKLOG)
    listener.set_inheritable(True)
    return listener


def _work(plan: WorkerPlan, slot: int, listener: socket.socket, report: Connection) -> None:
    """A worker process: open and warm the service, say so, then serve the shared socket."""
    try:
        # Imported here: the supervisor itself never loads the server, the model or the UI.
        from rag.serve.hooks import serve_hook
        from rag.serve.server import Serving

        mount = serve_hook(plan.mount_name) if plan.mount_name else None
        # One worker syncs: several would only take turns at the folder's write lock.
        serving = Serving(plan.config, mount, sync=plan.config.sync and slot == 0, shared=plan.shared_folder)
    except Exception as error:  # noqa: BLE001 - any failure to start is told to the supervisor
        message = str(error) if isinstance(error, RagError) else f"{type(error).__name__}: {error}"
        report.send(("failed", message))
        sys.exit(2)

    def say_when_serving_then_alive() -> None:  # one thread: a pipe is not for two senders at once
        while not serving.server.started and not serving.server.should_exit:
            time.sleep(0.02)
        report.send(("serving", serving.banner(listener.getsockname()[1])))
        while not serving.server.should_exit:
            time.sleep(HEARTBEAT_SECONDS)
            if serving.server.loop_age() < LOOP_STALE_SECONDS:
                try:
                    report.send(("alive", ""))
                except OSError:  # the supervisor is gone: leave_with_the_supervisor stops us
                    return

    def leave_with_the_supervisor() -> None:  # killed outright, it cannot stop its workers itself
        while os.getppid() == supervisor:
            time.sleep(1.0)
        serving.server.should_exit = True

    supervisor = os.getppid()
    threading.Thread(target=say_when_serving_then_alive, daemon=True).start()
    threading.Thread(target=leave_with_the_supervisor, daemon=True).start()
    serving.run([listener])


class Supervisor:
    """Starts the workers on one socket, replaces the ones that die, stops them all on SIGTERM/Ctrl+C."""

    def __init__(self, plan: WorkerPlan, processes: int) -> None:
        self.plan = plan
        self.processes = processes
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self._deaths: deque[float] = deque()
        self._workers: list[_Worker] = []

    def run(self) -> None:
        """Serve until SIGTERM or Ctrl+C; raise RagError when a worker cannot start."""
        config = self.plan.config
        listener = listening_socket(config.host, config.port)
        shared = tempfile.mkdtemp(prefix="verbatim-serve-")  # private (0700), gone at exit
        plan = replace(self.plan, shared_folder=shared)
        previous = {
            number: signal.signal(number, self._on_signal) for number in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for slot in range(self.processes):  # one at a time into the list: a failed start stops the others
                self._workers.append(self._start(plan, slot, listener))
            banners = [self._await_serving(worker) for worker in self._workers]
            if self._stop.is_set():
                return
            pids = ", ".join(str(worker.process.pid) for worker in self._workers)
            _say(f"{banners[0]}; {self.processes} processes (pids {pids})")
            while not self._stop.wait(POLL_SECONDS):
                for worker in self._workers:
                    if self._stop.is_set():
                        break
                    if not worker.process.is_alive():
                        self._replace(plan, worker, listener)
                    elif self._is_hung(worker):
                        self._kill_hung(worker)
                        self._replace(plan, worker, listener)
        finally:
            self._stop_all()
            listener.close()
            shutil.rmtree(shared, ignore_errors=True)
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        self._stop.set()

    def _start(self, plan: WorkerPlan, slot: int, listener: socket.socket) -> _Worker:
        receiving, sending = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_work, args=(plan, slot, listener, sending), name=f"rag-serve-{slot + 1}", daemon=True
        )
        process.start()
        sending.close()  # the child holds its copy: the pipe ends when the child does
        return _Worker(slot, process, receiving)

    def _await_serving(self, worker: _Worker) -> str:
        """The worker's banner once it serves ("" when the server is stopped meanwhile); RagError
        with the worker's own message when it cannot start."""
        deadline = time.monotonic() + START_SECONDS
        while not self._stop.is_set():
            try:
                if worker.report.poll(POLL_SECONDS):
                    status, text = worker.report.recv()
                    if status == "serving":
                        worker.last_alive = time.monotonic()
                        return str(text)
                    raise RagError(str(text))
            except (EOFError, OSError):  # gone without a word (killed, out of memory)
                worker.process.join(STOP_SECONDS)
                raise RagError(
                    f"serving process {worker.slot + 1} ended while starting ({_ending(worker.process)})"
                ) from None
            if time.monotonic() > deadline:
                raise RagError(
                    f"serving process {worker.slot + 1} did not start within {START_SECONDS:.0f} s"
                )
        return ""

    def _is_hung(self, worker: _Worker) -> bool:
        """Whether a serving worker has been silent longer than the plan allows (its messages read)."""
        try:
            while worker.report.poll(0):
                if worker.report.recv()[0] == "alive":
                    worker.last_alive = time.monotonic()
        except (EOFError, OSError):  # it is ending: is_alive will say so
            return False
        return bool(worker.last_alive) and time.monotonic() - worker.last_alive > self.plan.hung_seconds

    def _kill_hung(self, worker: _Worker) -> None:
        silent = time.monotonic() - worker.last_alive
        _say(
            f"serving process {worker.slot + 1} (pid {worker.process.pid}) stopped answering"
            f" ({silent:.0f} s without a sign of life); killing it"
        )
        worker.process.kill()  # SIGKILL: a stopped or blocked process cannot act on SIGTERM
        worker.process.join(STOP_SECONDS)

    def _replace(self, plan: WorkerPlan, worker: _Worker, listener: socket.socket) -> None:
        """Start a new process in a dead worker's place (a server dying often is stopped instead)."""
        now = time.monotonic()
        self._deaths.append(now)
        while self._deaths and self._deaths[0] < now - DEATH_WINDOW_SECONDS:
            self._deaths.popleft()
        _say(
            f"serving process {worker.slot + 1} (pid {worker.process.pid}) {_ending(worker.process)}; starting another"
        )
        if len(self._deaths) > MOST_DEATHS:
            raise RagError(
                f"serving processes died {len(self._deaths)} times within {DEATH_WINDOW_SECONDS:.0f} s; "
                "stopping (see the messages above)"
            )
        worker.report.close()
        fresh = self._start(plan, worker.slot, listener)
        self._workers[worker.slot] = fresh
        if self._await_serving(fresh):
            _say(f"serving process {worker.slot + 1} serves again (pid {fresh.process.pid})")

    def _stop_all(self) -> None:
        for worker in self._workers:
            if worker.process.is_alive() and worker.process.pid is not None:
                os.kill(worker.process.pid, signal.SIGTERM)  # uvicorn's graceful shutdown
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.report.close()


def _ending(process: BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return "stopped answering"
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
