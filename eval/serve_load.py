"""The load run of `rag serve`: many concurrent chat requests, all answered or cleanly refused.

Part of python -m eval.bench (--serve-load N): the seeds corpus is indexed with the real model,
served on 127.0.0.1, and N chat completions are sent at once. Every response must be a 200
whose citations quote the stored text, or a 429/503 refusal with Retry-After; anything else
counts as a failure. The requests are sent from one asyncio client thread: a thread per request
would fight the in-process server for the GIL and slow it down, which no outside client does.

`compare_processes` serves the same index with `rag serve --processes N` (a process of its own,
as a user starts it) for each N in turn, alternating, and adds a sustained rate (a fixed number
of clients asking in a loop), the start time and each serving process's memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import rag
from eval.load_client import LoadClient
from eval.ports import free_port
from eval.presets import PRESETS
from rag.serve import RunningServer, ServeConfig

TIMEOUT_SECONDS = 300
BASELINE_REQUESTS = 10
START_SECONDS = 600
# The sustained rate: this many clients, each asking again as soon as answered, for this long.
SUSTAINED_CLIENTS = 16
SUSTAINED_SECONDS = 10.0


def questions() -> list[str]:
    """The seeds question set's questions."""
    lines = PRESETS["seeds"].dataset.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


async def chat(client: LoadClient, question: str) -> tuple[int, float, dict[str, Any], str]:
    """(status, seconds, JSON body, Retry-After) of one chat completion."""
    body = {"model": "seeds", "messages": [{"role": "user", "content": question}]}
    start = time.perf_counter()
    response = await client.post("/v1/chat/completions", json.dumps(body).encode())
    seconds = time.perf_counter() - start
    if response.status == 0:
        return 0, seconds, {"error": response.body.decode()}, ""
    try:
        payload = json.loads(response.body) if response.body else {}
    except ValueError:  # not the API's answer (uvicorn's own 503 past its connection limit)
        payload = {"error": response.body[:200].decode("utf-8", "replace")}
    return response.status, seconds, payload, response.headers.get("retry-after", "")


async def send(url: str, asked: list[str], requests: int) -> tuple[list[float], list[Any], float]:
    """(one-at-a-time latencies in ms, the burst's results, the burst's wall seconds); every
    request of the burst on a connection of its own, as that many clients would."""
    client = LoadClient(url, keep_alive=False, timeout=TIMEOUT_SECONDS)
    await chat(client, asked[0])  # load the model before the clock starts
    # One at a time first: the same machine's unloaded pace, to compare the burst with.
    alone = [(await chat(client, asked[n % len(asked)]))[1] * 1000 for n in range(BASELINE_REQUESTS)]
    started = time.perf_counter()
    results = await asyncio.gather(*(chat(client, asked[n % len(asked)]) for n in range(requests)))
    return alone, list(results), time.perf_counter() - started


def quotes_hold(base: rag.KnowledgeBase, payload: dict[str, Any]) -> bool:
    """Whether every citation's quote is the stored text at its offsets."""
    return all(
        base.document(citation["document_id"]).text[citation["start"] : citation["end"]] == citation["quote"]
        for citation in payload.get("citations", [])
    )


def fill_seeds(location: Path | str) -> None:
    """Index the seeds corpus with the real model at location (a folder or a PostgreSQL URL)."""
    with rag.open(location) as base:
        base.ingest([PRESETS["seeds"].corpus])


def index_seeds(work: Path) -> Path:
    """The seeds corpus indexed with the real model, in work/seeds-index."""
    folder = work / "seeds-index"
    fill_seeds(folder)
    return folder


def run_load(requests: int, work: Path, port: int = 0) -> dict[str, Any]:
    """Index the seeds, serve them, send `requests` chat completions at once; count and time them."""
    folder = index_seeds(work)
    server = RunningServer(ServeConfig({"seeds": folder}, port=port))
    asked = questions()
    try:
        alone, results, wall = asyncio.run(send(server.url, asked, requests))
        base = server.service.collections.base("seeds")
        valid = sum(quotes_hold(base, payload) for status, _, payload, _ in results if status == 200)
        limits = server.service.limits
    finally:
        server.stop()
    return {"workers": limits.workers, "queue": limits.queue} | summary(alone, results, wall, valid)


def summary(alone: list[float], results: list[Any], wall: float, valid: int) -> dict[str, Any]:
    """The figures of one burst: how many were answered and refused, how fast, and their latencies."""
    answered = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] in (429, 503) and r[3] and "error" in r[2]]
    requests = len(results)
    latencies = [seconds * 1000 for _, seconds, _, _ in answered]
    alone_p50 = float(np.percentile(alone, 50))
    return {
        "one_at_a_time_p50_ms": round(alone_p50, 1),
        "one_at_a_time_answers_per_s": round(1000 / alone_p50, 2),
        "requests": requests,
        "answered_200": len(answered),
        "refused_429": sum(1 for r in refused if r[0] == 429),
        "refused_503": sum(1 for r in refused if r[0] == 503),
        "failed_otherwise": requests - len(answered) - len(refused),
        "answers_with_valid_quotes": valid,
        "wall_s": round(wall, 2),
        "burst_answers_per_s": round(len(answered) / wall, 2),
        "answered_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "answered_p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        "refusal_p95_ms": round(float(np.percentile([r[1] * 1000 for r in refused], 95)), 1)
        if refused
        else None,
    }


@contextmanager
def served_by_processes(
    folder: Path | str, processes: int, log: Path
) -> Iterator[tuple[str, list[int], float]]:
    """`rag serve --processes N` over folder: (its URL, the serving pids, seconds until it served)."""
    port = free_port()
    command = [sys.executable, "-m", "rag", "serve", "--collection", f"seeds={folder}", "--port", str(port)]
    started = time.perf_counter()
    with log.open("w") as output:
        server = subprocess.Popen([*command, "--processes", str(processes)], stdout=output, stderr=output)
    try:
        while "Verbatim API at" not in log.read_text():
            if server.poll() is not None or time.perf_counter() - started > START_SECONDS:
                raise RuntimeError(f"rag serve --processes {processes} did not start: {log.read_text()}")
            time.sleep(0.05)
        start_seconds = time.perf_counter() - started
        listed = re.search(r"pids ([\d, ]+)\)", log.read_text())
        pids = [int(pid) for pid in listed.group(1).split(", ")] if listed else [server.pid]
        yield f"http://127.0.0.1:{port}", pids, start_seconds
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def sustain(url: str, asked: list[str], clients: int, seconds: float) -> tuple[int, float]:
    """(answers, wall seconds) of `clients` clients each asking again as soon as answered, each
    on its own kept-alive connection."""
    started = time.perf_counter()
    answered = 0

    async def loop(offset: int) -> None:
        nonlocal answered
        client = LoadClient(url, keep_alive=True, timeout=TIMEOUT_SECONDS)
        asked_count = offset
        while time.perf_counter() - started < seconds:
            status = (await chat(client, asked[asked_count % len(asked)]))[0]
            answered += status == 200
            asked_count += clients
        await client.close()

    await asyncio.gather(*(loop(offset) for offset in range(clients)))
    return answered, time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process (with all its threads) has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) MB of a process."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def load_processes(folder: Path | str, requests: int, processes: int, log: Path) -> dict[str, Any]:
    """One run against `rag serve --processes N`: the burst, then the sustained rate, with memory."""
    asked = questions()
    before = os.getloadavg()[0]
    with served_by_processes(folder, processes, log) as (url, pids, start_seconds):
        alone, results, wall = asyncio.run(send(url, asked, requests))
        cpu_before = sum(_cpu_seconds(pid) for pid in pids)
        client_before = time.process_time()
        answers, sustained_wall = asyncio.run(sustain(url, asked, SUSTAINED_CLIENTS, SUSTAINED_SECONDS))
        client_cpu = time.process_time() - client_before
        cpu = sum(_cpu_seconds(pid) for pid in pids) - cpu_before
        memory = [_memory_mb(pid) for pid in pids]
    with rag.open(folder) as base:
        valid = sum(quotes_hold(base, payload) for status, _, payload, _ in results if status == 200)
    return {
        "processes": processes,
        "start_s": round(start_seconds, 2),
        "rss_mb_per_process": round(max(rss for rss, _ in memory), 1),
        "peak_rss_mb_per_process": round(max(peak for _, peak in memory), 1),
        **summary(alone, list(results), wall, valid),
        f"sustained_answers_per_s ({SUSTAINED_CLIENTS} clients)": round(answers / sustained_wall, 2),
        # The server's CPU while sustained: cores it kept busy, and CPU per answer (what more cores buy).
        "sustained_server_cores_busy": round(cpu / sustained_wall, 2),
        "sustained_server_cpu_ms_per_answer": round(cpu * 1000 / max(1, answers), 1),
        # The load client's own CPU (this process), which the server's cores share.
        "sustained_client_cpu_ms_per_request": round(client_cpu * 1000 / max(1, answers), 1),
        "load_average_before": round(before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def compare_processes(
    requests: int, work: Path, counts: Sequence[int], rounds: int = 1, location: str | None = None
) -> list[dict[str, Any]]:
    """The load run against `rag serve --processes N` for each N, alternating, `rounds` times over;
    the seeds are indexed in a folder under work, or into the database at `location`."""
    folder: Path | str = index_seeds(work) if location is None else location
    if location is not None:  # one database every serving process reads
        fill_seeds(location)
    runs = []
    for round_number in range(1, rounds + 1):
        for processes in counts:
            print(f"rag serve --processes {processes}, round {round_number} ...", file=sys.stderr, flush=True)
            run = load_processes(folder, requests, processes, work / f"serve-{processes}-{round_number}.log")
            runs.append({"round": round_number} | run)
    return runs
