"""`rag serve --processes 2`: two real serving processes behind one port, as a client meets them.

Which process holds a connection is read from the kernel (/proc): the server-side socket of
the connection, and the process that has it open.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import rag
from eval.ports import free_port

REPO = Path(__file__).resolve().parents[1]
MODEL = "hashing-256"
START_SECONDS = 120.0
SERVE = [sys.executable, "-m", "rag", "serve", "--model", MODEL]
RIVER = "The river Aldwater floods the lower meadows every spring, after the snow melts in the hills."
HARBOUR = "The harbour of Quenby shelters forty fishing boats behind a granite breakwater."
LATER = "The lighthouse of Sorrowby was painted red and white stripes in the year of the great storm."


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int
    log: Path
    index: Path | str

    def pids(self) -> set[int]:
        """The serving processes now: the banner's, less the ones replaced, plus their replacements."""
        text = self.log.read_text()
        started = re.search(r"processes \(pids ([\d, ]+)\)", text)
        assert started, text
        pids = {int(pid) for pid in started.group(1).split(", ")}
        pids -= {int(pid) for pid in re.findall(r"\(pid (\d+)\) was killed", text)}
        return pids | {int(pid) for pid in re.findall(r"serves again \(pid (\d+)\)", text)}


def start(index: Path | str, workdir: Path, *flags: str) -> Server:
    port = free_port()
    log = workdir / f"serve-{port}.log"
    process = subprocess.Popen(
        [*SERVE, "--index", str(index), "--port", str(port), "--processes", "2", *flags],
        cwd=REPO,
        env=os.environ | {"HF_HUB_OFFLINE": "1"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + START_SECONDS
    while "processes (pids" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"rag serve --processes 2 did not start: {log.read_text()}")
        time.sleep(0.2)
    return Server(process, port, log, index)


def is_running(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def stop(server: Server) -> int:
    server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("processes")
    with rag.open(root / "index", embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("river.md", RIVER), rag.TextItem("harbour.md", HARBOUR)])
    running = start(root / "index", root)
    yield running
    stop(running)


def request(
    connection: http.client.HTTPConnection, method: str, path: str, body: object = None
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, None if body is None else json.dumps(body), headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def holder(port: int, connection: http.client.HTTPConnection, pids: set[int]) -> int:
    """The process holding the server side of a connection: its socket's inode in /proc/net/tcp,
    then the process with that socket among its open files."""
    assert connection.sock is not None
    client_port = connection.sock.getsockname()[1]
    inode = ""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, remote_port = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if local_port == port and remote_port == client_port:
            inode = fields[9]
    for pid in pids:
        for descriptor in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{descriptor}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError(f"no serving process holds the connection from port {client_port}")


def one_connection_each(server: Server) -> dict[int, http.client.HTTPConnection]:
    """A kept-alive connection held by each serving process (connections are opened until each has one)."""
    pids = server.pids()
    held: dict[int, http.client.HTTPConnection] = {}
    spare = []
    for _ in range(200):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        assert request(connection, "GET", "/healthz")[0] == 200
        pid = holder(server.port, connection, pids)
        if pid in held:
            spare.append(connection)
        else:
            held[pid] = connection
        if len(held) == len(pids):
            break
    for connection in spare:
        connection.close()
    assert set(held) == pids, "not every serving process was handed a connection"
    return held


def cited(connection: http.client.HTTPConnection, question: str) -> list[str]:
    status, answer = request(connection, "POST", "/v1/ask", {"question": question})
    assert status == 200, answer
    return [citation["source"] for citation in answer["citations"]]


def test_each_process_answers_on_the_one_port(server: Server) -> None:
    connections = one_connection_each(server)
    assert len(connections) == 2
    for connection in connections.values():
        assert cited(connection, "When does the Aldwater flood the meadows?") == ["river.md"]
        connection.close()


def test_feedback_reaches_the_answer_whichever_process_gave_it(server: Server) -> None:
    connections = list(one_connection_each(server).values())
    for answering, told in ((connections[0], connections[1]), (connections[1], connections[0])):
        status, answer = request(
            answering, "POST", "/v1/ask", {"question": "How many boats shelter in Quenby?"}
        )
        assert status == 200 and answer["answered"]
        status, stored = request(told, "POST", "/v1/feedback", {"id": answer["id"], "rating": "up"})
        assert status == 200 and stored["stored"], stored
    with rag.open(server.index, embedder=rag.HashingEmbedder(256)) as base:
        assert sum(entry.rating == "helpful" for entry in base.feedback()) >= 2


def test_a_document_ingested_while_serving_is_answered_by_every_process(
    server: Server, tmp_path: Path
) -> None:
    connections = one_connection_each(server)  # both processes have answered before the ingest
    for connection in connections.values():
        assert not any("lighthouse" in source for source in cited(connection, "Sorrowby lighthouse colours?"))
        connection.close()
    (tmp_path / "lighthouse.md").write_text(LATER)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rag",
            "ingest",
            "--index",
            str(server.index),
            "--model",
            MODEL,
            str(tmp_path),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    for connection in one_connection_each(server).values():  # the same processes, new connections
        sources = cited(connection, "What colours was the Sorrowby lighthouse painted?")
        assert [source.rsplit("/", 1)[-1] for source in sources] == ["lighthouse.md"]
        connection.close()


def test_uploads_to_two_processes_at_once_are_stored_or_refused_in_a_word(server: Server) -> None:
    connections = list(one_connection_each(server).values())
    names = ["first-upload.md", "second-upload.md"]
    for connection, name in zip(connections, names, strict=True):
        boundary = "verbatim-test-boundary"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: text/markdown\r\n\r\nThe {name} mentions a copper kettle.\r\n--{boundary}--\r\n"
        )
        connection.putrequest("POST", "/v1/documents")
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body.encode())  # both sent before either answer is read
    statuses = []
    for connection in connections:
        response = connection.getresponse()
        payload = json.loads(response.read())
        statuses.append(response.status)
        assert response.status == 200 or (
            response.status == 409
            and payload["error"]["code"] == "index_locked"
            and response.getheader("Retry-After")
        ), payload
    _, listed = request(connections[0], "GET", "/v1/documents")
    sources = {document["source"] for document in listed["data"]}
    assert all(name in sources for name, code in zip(names, statuses, strict=True) if code == 200)


def replaced(server: Server) -> str:
    """Wait until a process of the server serves again in a lost one's place; check that both
    processes answer; return the server's log."""
    deadline = time.monotonic() + START_SECONDS
    while "serves again" not in server.log.read_text():
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.2)
    assert len(server.pids()) == 2
    for connection in one_connection_each(server).values():
        assert cited(connection, "When does the Aldwater flood?") == ["river.md"]
        connection.close()
    return server.log.read_text()


def test_a_killed_process_is_replaced_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    with rag.open(tmp_path / "index", embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("river.md", RIVER)])
    server = start(tmp_path / "index", tmp_path)
    try:
        killed = min(server.pids())
        os.kill(killed, signal.SIGKILL)
        while is_running(killed):  # a connection it accepted while dying would be reset
            time.sleep(0.05)
        for _ in range(10):  # answered meanwhile by the other process
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            assert cited(connection, "When does the Aldwater flood?") == ["river.md"]
            connection.close()
        log = replaced(server)
        assert f"(pid {killed}) was killed by SIGKILL" in log
        assert killed not in server.pids()
    finally:
        pids = server.pids()
        assert stop(server) == 0
    assert not any(is_running(pid) for pid in pids)


def test_a_process_that_stops_answering_is_killed_and_replaced(tmp_path: Path) -> None:
    hung = 4.0
    with rag.open(tmp_path / "index", embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("river.md", RIVER)])
    server = start(tmp_path / "index", tmp_path, "--hung-seconds", str(hung))
    try:
        time.sleep(2.5 * hung)  # idle, both give signs of life: neither is taken for hung
        assert "stopped answering" not in server.log.read_text()
        stopped = min(server.pids())
        os.kill(stopped, signal.SIGSTOP)  # alive, holding its connections, answering nothing
        log = replaced(server)
        assert f"(pid {stopped}) stopped answering" in log
        assert f"(pid {stopped}) was killed by SIGKILL" in log
        assert not is_running(stopped)
    finally:
        pids = server.pids()
        assert stop(server) == 0
    assert not any(is_running(pid) for pid in pids)


def test_hung_seconds_too_short_is_a_one_line_error(tmp_path: Path) -> None:
    finished = subprocess.run(
        [*SERVE, "--index", str(tmp_path / "index"), "--processes", "2", "--hung-seconds", "0.5"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == ["error: --hung-seconds must be at least 3"]


def test_workers_stop_when_the_supervisor_is_killed_outright(tmp_path: Path) -> None:
    with rag.open(tmp_path / "index", embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("river.md", RIVER)])
    server = start(tmp_path / "index", tmp_path)
    pids = server.pids()
    server.process.kill()
    server.process.wait()
    deadline = time.monotonic() + 30
    while any(is_running(pid) for pid in pids):
        assert time.monotonic() < deadline, "a serving process outlived its supervisor"
        time.sleep(0.2)


@pytest.mark.postgres
def test_with_a_postgresql_collection_one_process_builds_its_follower_and_the_other_takes_its_copy(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))  # no saved copy yet
    with rag.open(postgres_url, embedder=rag.HashingEmbedder(256)) as base:
        base.add_texts([rag.TextItem("river.md", RIVER), rag.TextItem("harbour.md", HARBOUR)])
    server = start(postgres_url, tmp_path)
    try:
        log = server.log.read_text()
        assert len(re.findall(r"its vector index is ready, built from \d+ vectors", log)) == 1, log
        assert (
            len(re.findall(r"its vector index is ready, taken from this machine's saved copy", log)) == 1
        ), log
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        assert cited(connection, "When does the river flood the meadows?")[0] == "river.md"
    finally:
        assert stop(server) == 0


def test_a_bad_index_stops_the_server_with_its_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "notes.txt").write_text("not an index")
    started = time.monotonic()
    finished = subprocess.run(
        [*SERVE, "--index", str(tmp_path / "index"), "--port", str(free_port()), "--processes", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [
        f"error: collection index: {tmp_path / 'index'} holds files but no index; build one with "
        f"`rag ingest PATH --index {tmp_path / 'index'}`, or name an empty folder to fill by uploads"
    ]
    assert time.monotonic() - started < 60
