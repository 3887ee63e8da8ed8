"""python -m eval.ask_trees OLD_TREE {answers,cpu}: the answer step of two source trees, side by side.

`answers` indexes each preset's corpus with each tree (real model), asks every question of it and
compares the whole answers (text, quotes and their offsets, passages, refusals, notices; not the
timings): a change meant to be faster only must give the same bytes. `cpu` asks the seeds
questions in-process, after a warm-up pass, and measures the CPU time (process time) and wall
time per ask, the trees alternating which goes first each round so that a busy machine slows
both alike; each run prints the load average at its start. OLD_TREE is another checkout, say
`git archive COMMIT | tar -x -C /tmp/old`. Each tree runs in its own process (this file as a
script, `--worker`, with that tree on PYTHONPATH); the presets' files are this tree's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.presets import PRESETS

THIS_TREE = Path(__file__).resolve().parent.parent
ANSWER_PRESETS = ("seeds", "xquad", "compound", "tables")


def _run_in(tree: Path, *arguments: str) -> str:
    """This file's worker, run with tree's rag and eval; its standard output."""
    environment = os.environ | {
        "PYTHONPATH": str(tree),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", *arguments]
    return subprocess.run(command, env=environment, check=True, capture_output=True, text=True).stdout


def compare_answers(old_tree: Path, presets: list[str], work: Path) -> int:
    """Ask each preset's questions with both trees; print and count the questions answered differently."""
    differing = 0
    for preset in presets:
        answers = {}
        for name, tree in (("old", old_tree), ("new", THIS_TREE)):
            output = work / f"{preset}-{name}.jsonl"
            folder = work / f"index-{preset}-{name}"
            _run_in(tree, "answers", *_files(preset), str(folder), str(output))
            answers[name] = output.read_text(encoding="utf-8").splitlines()
        old, new = answers["old"], answers["new"]
        different = [
            number for number, (before, after) in enumerate(zip(old, new, strict=True)) if before != after
        ]
        for number in different[:3]:
            print(f"  {preset} question {number}:\n    old {old[number][:300]}\n    new {new[number][:300]}")
        answered = sum(json.loads(line)["answered"] for line in new)
        print(f"{preset}: {len(new)} questions ({answered} answered), {len(different)} answered differently")
        differing += len(different)
    return differing


def compare_cpu(old_tree: Path, rounds: int, asks: int, work: Path) -> dict[str, list[dict[str, float]]]:
    """Each tree's runs over one seeds index: CPU and wall ms per ask, the load at the start."""
    index = work / "seeds-index"
    corpus, questions = _files("seeds")
    _run_in(THIS_TREE, "index", corpus, str(index))
    trees = {"old": old_tree, "new": THIS_TREE}
    runs: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for round_number in range(rounds):
        for name in ("old", "new") if round_number % 2 == 0 else ("new", "old"):
            load = round(os.getloadavg()[0], 1)
            run = json.loads(_run_in(trees[name], "cpu", str(index), questions, str(asks))) | {"load": load}
            runs[name].append(run)
            print(f"{name}: {run}", flush=True)
    return runs


def _files(preset_name: str) -> tuple[str, str]:
    """(the corpus, the questions) of a preset, as paths."""
    preset = PRESETS[preset_name]
    return str(preset.corpus), str(preset.dataset)


def _index(corpus: Path, folder: Path) -> Any:
    """The corpus indexed into folder (kept when already there), open."""
    import rag

    complete = folder / "indexed"
    base = rag.open(folder)
    if not complete.exists():
        if corpus.suffix == ".jsonl":
            rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
            base.add_texts([_item(row) for row in rows])
        else:
            base.ingest([corpus])
        complete.touch()
    return base


def _item(row: dict[str, Any]) -> Any:
    """A corpus.jsonl row as the evaluation indexes it: title and text joined, the id as source."""
    import rag

    source, title, text = str(row["_id"]), str(row.get("title") or ""), str(row.get("text") or "")
    return rag.TextItem(source=source, title=title or source, text=f"{title}\n\n{text}" if title else text)


def _questions(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def _without_timings(value: Any) -> Any:
    """The answer's dict without what changes from run to run (timings, the random answer id)."""
    if isinstance(value, dict):
        return {key: _without_timings(item) for key, item in value.items() if key not in ("timings_ms", "id")}
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    return value


def _worker(arguments: list[str]) -> None:
    """Run in one tree: `index CORPUS FOLDER`, `answers CORPUS QUESTIONS FOLDER OUT` or
    `cpu FOLDER QUESTIONS ASKS`."""
    command, *paths = arguments
    if command == "index":
        _index(Path(paths[0]), Path(paths[1])).close()
    elif command == "answers":
        corpus, questions, folder, output = map(Path, paths)
        with _index(corpus, folder) as base, output.open("w", encoding="utf-8") as out:
            for question in _questions(questions):
                answer = _without_timings(base.ask(question).to_dict())
                out.write(json.dumps(answer, ensure_ascii=False, sort_keys=True) + "\n")
    elif command == "cpu":
        print(json.dumps(_cpu_per_ask(Path(paths[0]), _questions(Path(paths[1])), int(paths[2]))))


def _cpu_per_ask(folder: Path, asked: list[str], asks: int) -> dict[str, float]:
    """CPU ms per ask (process time: every thread of this process), wall p50/p95, after a warm-up."""
    import rag

    with rag.open(folder) as base:
        for question in asked:
            base.ask(question)
        walls = []
        cpu_started = time.process_time()
        for number in range(asks):
            started = time.perf_counter()
            base.ask(asked[number % len(asked)])
            walls.append((time.perf_counter() - started) * 1000)
        cpu = (time.process_time() - cpu_started) * 1000 / asks
    percentiles = statistics.quantiles(walls, n=20)
    return {
        "cpu_ms": round(cpu, 2),
        "p50_ms": round(statistics.median(walls), 1),
        "p95_ms": round(percentiles[18], 1),
    }


def main() -> None:
    """Parse the arguments; compare the answers or the CPU time of the two trees."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_tree", type=Path)
    parser.add_argument("what", choices=("answers", "cpu"))
    parser.add_argument("--presets", nargs="+", default=list(ANSWER_PRESETS), help="for answers")
    parser.add_argument("--rounds", type=int, default=3, help="for cpu")
    parser.add_argument("--asks", type=int, default=200, help="for cpu: asks a run, after the warm-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ask-trees-") as work:
        if args.what == "answers":
            sys.exit(1 if compare_answers(args.old_tree.resolve(), args.presets, Path(work)) else 0)
        runs = compare_cpu(args.old_tree.resolve(), args.rounds, args.asks, Path(work))
    for name, measured in runs.items():
        cpu = statistics.median(run["cpu_ms"] for run in measured)
        print(f"{name}: median {cpu:.1f} ms of CPU an ask over {len(measured)} runs")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        sys.path.pop(0)  # this file's folder: the tree on PYTHONPATH gives rag and eval
        _worker(sys.argv[2:])
    else:
        main()
