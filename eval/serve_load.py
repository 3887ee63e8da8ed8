"""The load run of `rag serve`: many concurrent chat requests, all answered or cleanly refused.

Part of python -m eval.bench (--serve-load N): the seeds corpus is indexed with the real model,
served on 127.0.0.1, and N chat completions are sent at once. Every response must be a 200
whose citations quote the stored text, or a 429/503 refusal with Retry-After; anything else
counts as a failure. The requests are sent from one asyncio client thread: a thread per request
would fight the in-process server for the GIL and slow it down, which no outside client does.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import rag
from eval.presets import PRESETS
from rag.serve import RunningServer, ServeConfig

TIMEOUT_SECONDS = 300
BASELINE_REQUESTS = 10


def questions() -> list[str]:
    """The seeds question set's questions."""
    lines = PRESETS["seeds"].dataset.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


async def chat(client: httpx.AsyncClient, url: str, question: str) -> tuple[int, float, dict[str, Any], str]:
    """(status, seconds, JSON body, Retry-After) of one chat completion."""
    body = {"model": "seeds", "messages": [{"role": "user", "content": question}]}
    start = time.perf_counter()
    try:
        response = await client.post(url + "/v1/chat/completions", json=body)
    except httpx.HTTPError as error:
        return 0, time.perf_counter() - start, {"error": str(error)}, ""
    try:
        payload = response.json() if response.content else {}
    except ValueError:  # not the API's answer (uvicorn's own 503 past its connection limit)
        payload = {"error": response.text[:200]}
    return response.status_code, time.perf_counter() - start, payload, response.headers.get("Retry-After", "")


async def send(url: str, asked: list[str], requests: int) -> tuple[list[float], list[Any], float]:
    """(one-at-a-time latencies in ms, the burst's results, the burst's wall seconds)."""
    limits = httpx.Limits(max_connections=requests, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, limits=limits) as client:
        await chat(client, url, asked[0])  # load the model before the clock starts
        # One at a time first: the same machine's unloaded pace, to compare the burst with.
        alone = [(await chat(client, url, asked[n % len(asked)]))[1] * 1000 for n in range(BASELINE_REQUESTS)]
        started = time.perf_counter()
        results = await asyncio.gather(*(chat(client, url, asked[n % len(asked)]) for n in range(requests)))
        return alone, list(results), time.perf_counter() - started


def quotes_hold(base: rag.KnowledgeBase, payload: dict[str, Any]) -> bool:
    """Whether every citation's quote is the stored text at its offsets."""
    return all(
        base.document(citation["document_id"]).text[citation["start"] : citation["end"]] == citation["quote"]
        for citation in payload.get("citations", [])
    )


def run_load(requests: int, work: Path, port: int = 0) -> dict[str, Any]:
    """Index the seeds, serve them, send `requests` chat completions at once; count and time them."""
    folder = work / "seeds-index"
    with rag.open(folder) as base:
        base.ingest([PRESETS["seeds"].corpus])
    server = RunningServer(ServeConfig({"seeds": folder}, port=port))
    asked = questions()
    try:
        alone, results, wall = asyncio.run(send(server.url, asked, requests))
        base = server.service.collections.base("seeds")
        answered = [r for r in results if r[0] == 200]
        refused = [r for r in results if r[0] in (429, 503) and r[3] and "error" in r[2]]
        valid = sum(quotes_hold(base, payload) for _, _, payload, _ in answered)
        limits = server.service.limits
    finally:
        server.stop()
    latencies = [seconds * 1000 for _, seconds, _, _ in answered]
    alone_p50 = float(np.percentile(alone, 50))
    return {
        "one_at_a_time_p50_ms": round(alone_p50, 1),
        "one_at_a_time_answers_per_s": round(1000 / alone_p50, 2),
        "requests": requests,
        "workers": limits.workers,
        "queue": limits.queue,
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
