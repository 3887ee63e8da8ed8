"""python -m eval.sync_bench: what `rag sync` costs, and whether a killed sync resumes whole.

Timing: writes N small text files, syncs them once (first ingest), again with nothing changed,
and again after one file changed; each as its own `rag sync --json` process, timed from outside
and by the pass itself. Kill trials: changes the folder (adds, edits, renames, deletes), starts
`rag sync`, kills it with SIGKILL at a random point of its run (a share of how long an unkilled run
takes), runs it again to completion and checks
that every file is in the index exactly once with its current text, and nothing else is.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import rag
from eval.ports import free_port

RAG = [sys.executable, "-m", "rag"]
WORDS = (
    "harbour river valley spring market island ferry lighthouse keeper tide granite quarry orchard".split()
)


def text(rng: random.Random, number: int) -> str:
    """A short document, different for each number and draw."""
    return f"Document {number}. " + " ".join(rng.choice(WORDS) for _ in range(60)) + "\n"


def write_files(folder: Path, count: int, rng: random.Random) -> None:
    """count files, their modification times a minute back (settled)."""
    past = time.time() - 60
    for number in range(count):
        path = folder / f"d{number // 1000:03d}" / f"f{number:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text(rng, number))
        os.utime(path, (past, past))


def run_sync(folder: Path, index: Path, model: str) -> tuple[float, dict[str, Any]]:
    """(wall seconds, the pass report) of one `rag sync` process."""
    started = time.perf_counter()
    done = subprocess.run(
        [*RAG, "sync", str(folder), "--index", str(index), "--model", model, "--json", "--allow-mass-delete"],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    return wall, json.loads(done.stdout)[0]


def timing(files: int, model: str, work: Path) -> dict[str, object]:
    """First sync, a no-change sync and a one-file-change sync of `files` files."""
    rng = random.Random(1)
    folder, index = work / "docs", work / "index"
    write_files(folder, files, rng)
    first_wall, first = run_sync(folder, index, model)
    same_wall, same = run_sync(folder, index, model)
    changed = folder / "d000" / "f00000.txt"
    changed.write_text("A changed document about the saffron windmill.\n")
    past = time.time() - 5
    os.utime(changed, (past, past))
    one_wall, one = run_sync(folder, index, model)
    return {
        "files": files,
        "model": model,
        "first_sync": {
            "wall_seconds": round(first_wall, 2),
            "pass_seconds": first["seconds"],
            "added": first["added"],
        },
        "no_change_sync": {
            "wall_seconds": round(same_wall, 2),
            "pass_seconds": same["seconds"],
            "unchanged": same["unchanged"],
            "share_of_first_pass": round(float(same["seconds"]) / float(first["seconds"]), 4),
        },
        "one_changed_file": {
            "wall_seconds": round(one_wall, 2),
            "pass_seconds": one["seconds"],
            "updated": one["updated"],
        },
    }


def mutate(folder: Path, rng: random.Random, serial: int) -> None:
    """Add, edit, rename and delete some files."""
    files = sorted(folder.rglob("*.txt"))
    past = time.time() - 60
    for path in rng.sample(files, min(12, len(files))):
        choice = rng.choice(("edit", "rename", "delete"))
        if choice == "edit":
            path.write_text(text(rng, serial))
            os.utime(path, (past, past))
        elif choice == "rename":
            path.rename(path.with_name(f"r{serial}-{path.name}"))
        else:
            path.unlink()
    for extra in range(rng.randint(4, 12)):
        path = folder / "d000" / f"new-{serial}-{extra}.txt"
        path.write_text(text(rng, serial * 100 + extra))
        os.utime(path, (past, past))


def check(folder: Path, index: Path) -> list[str]:
    """What is wrong: a file missing or stale in the index, a document whose file is gone."""
    wanted = {str(path): path.read_text() for path in folder.rglob("*.txt")}
    problems = []
    with rag.open(index) as base:
        stored = {info.source for info in base.documents()}
        for source, content in wanted.items():
            if source not in stored:
                problems.append(f"missing {source}")
            elif base.document(source).text != content:
                problems.append(f"stale {source}")
        problems += [f"left over {source}" for source in stored - wanted.keys()]
    return problems


def kill_trials(trials: int, files: int, model: str, work: Path, seed: int) -> dict[str, object]:
    """Kill `rag sync` at random moments; a full sync afterwards must leave every file whole."""
    rng = random.Random(seed)
    folder, index = work / "docs", work / "index"
    write_files(folder, files, rng)
    run_sync(folder, index, model)
    failures, killed = [], 0
    # Kill at a random point of a run: a share of how long an unkilled run of the same work takes.
    mutate(folder, rng, trials)
    typical, _ = run_sync(folder, index, model)
    for trial in range(trials):
        mutate(folder, rng, trial)
        command = [*RAG, "sync", str(folder), "--index", str(index), "--model", model, "--allow-mass-delete"]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            process.wait(timeout=rng.uniform(0.3, 1.0) * typical)
            typical = 0.8 * typical + 0.2 * (time.perf_counter() - started)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed += 1
        run_sync(folder, index, model)
        problems = check(folder, index)
        if problems:
            failures.append({"trial": trial, "problems": problems[:5]})
        print(
            f"trial {trial + 1}/{trials}: killed {killed}, failed {len(failures)}",
            file=sys.stderr,
            flush=True,
        )
    return {"trials": trials, "killed_while_running": killed, "failed_trials": failures}


def watch_latency(files: int, model: str, work: Path, changes: int, port: int) -> dict[str, object]:
    """Seconds from writing one file into a `files`-file folder that `rag serve --sync` watches to
    the server's answer citing it: new files and edits of existing ones, alternately."""
    import httpx  # the serve extra: only this mode needs it

    rng = random.Random(3)
    folder, index = work / "docs", work / "index"
    write_files(folder, files, rng)
    first_wall, _ = run_sync(folder, index, model)
    url = f"http://127.0.0.1:{port}"
    log = (work / "serve.log").open("w")
    server = subprocess.Popen(
        [*RAG, "serve", "--index", str(index), "--port", str(port), "--sync"], stdout=log, stderr=log
    )
    try:
        _wait_for_first_pass(url, server)
        # A served index has answered before a change comes: the first question's own start-up
        # (loading the answer machinery and the vectors) is timed apart from the changes.
        started = time.monotonic()
        httpx.post(f"{url}/v1/ask", json={"question": "Where is the lantern kept?"}, timeout=120)
        first_question = round(time.monotonic() - started, 2)
        latencies = []
        for number in range(changes):
            nonce = f"zephyr{number}quill"
            # Even changes add a file, odd ones rewrite one of the first files.
            name = f"late-{number}.txt" if number % 2 == 0 else f"f{number * 3 + 1:05d}.txt"
            path = folder / "d000" / name
            written = time.monotonic()
            path.write_text(f"The {nonce} lantern is kept in the north tower.\n")
            while True:
                answer = httpx.post(
                    f"{url}/v1/ask", json={"question": f"Where is the {nonce} lantern kept?"}, timeout=60
                )
                cited = [citation["source"] for citation in answer.json().get("citations", [])]
                if str(path) in cited:
                    break
                if time.monotonic() - written > 60:
                    raise SystemExit(f"{path} not answerable after 60 s")
                time.sleep(0.05)
            latencies.append(round(time.monotonic() - written, 2))
            print(f"change {number + 1}/{changes}: {latencies[-1]} s", file=sys.stderr, flush=True)
            time.sleep(1.0)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(latencies)
    return {
        "files": files,
        "model": model,
        "first_sync_wall_seconds": round(first_wall, 1),
        "first_question_seconds": first_question,
        "changes": changes,
        "seconds_write_to_answer": latencies,
        "median": ordered[len(ordered) // 2],
        "max": ordered[-1],
    }


def _wait_for_first_pass(url: str, server: subprocess.Popen[bytes]) -> None:
    """Until the server answers and its sync thread has finished a pass since it started."""
    import httpx

    started = time.time()
    while True:
        if server.poll() is not None:
            raise SystemExit(f"rag serve exited with {server.returncode}")
        try:
            sources = httpx.get(f"{url}/v1/sources", timeout=5).json()["data"]
        except httpx.HTTPError:
            sources = []
        stamps = [source["last"].get("started_at", "") for source in sources]
        if stamps and all(
            stamp and datetime.fromisoformat(stamp).timestamp() >= started - 1 for stamp in stamps
        ):
            return
        time.sleep(0.5)


def main() -> int:
    """Run the timing, or the kill trials, and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--model", default="hashing-256")
    parser.add_argument("--kill-trials", type=int, default=0, help="run this many SIGKILL trials instead")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--watch-latency", type=int, default=0, help="time this many changes under `rag serve --sync` instead"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="for --watch-latency's server (default: a free one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        if args.watch_latency:
            result = watch_latency(
                args.files, args.model, Path(temporary), args.watch_latency, args.port or free_port()
            )
        elif args.kill_trials:
            result = kill_trials(args.kill_trials, args.files, args.model, Path(temporary), args.seed)
        else:
            result = timing(args.files, args.model, Path(temporary))
    print(json.dumps(result, indent=2))
    return 1 if result.get("failed_trials") else 0


if __name__ == "__main__":
    sys.exit(main())
