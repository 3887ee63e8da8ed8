"""python -m eval.soak: kill `rag` with SIGKILL at random moments and check that nothing is lost.

Each trial changes the corpus, starts one write command (ingest, update, remove, prune, or a
repair that rewrites the vector file) as its own process, kills it after a random delay, then
checks the index (`rag check`), compares every document with what it may be, runs the same
command again to completion (resume) and checks the result. A document may be in its old or
its new version, never anything else, and never lost unless the command was removing it.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import rag

OPERATIONS = ("ingest", "update", "remove", "prune", "repair")
WORDS = (
    "harbour river valley spring cloves market island ferry lighthouse keeper tide crane granite quarry "
    "orchard mill bridge canal lantern archive ledger voyage compass meadow beacon"
).split()
RAG = [sys.executable, "-m", "rag"]
MODEL = ["--model", "hashing-256"]  # the crash behaviour is the model's; hashing keeps 200 trials short


@dataclass
class Totals:
    """What the soak found, over all trials."""

    trials: int = 0
    killed_while_running: int = 0
    documents_lost: int = 0
    documents_half_written: int = 0
    check_failures_after_kill: int = 0
    resumed_ok: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak and print (and optionally write) its totals; exit 1 when anything was lost."""
    parser = argparse.ArgumentParser(prog="python -m eval.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--files", type=int, default=100, help="size of the generated corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write soak.json here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="verbatim-soak-") as workdir:
        totals = soak(Path(workdir), args.trials, args.files, random.Random(args.seed))
    print(summary(totals))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "soak.json").write_text(json.dumps(asdict(totals), indent=2))
    healthy = totals.documents_lost == totals.documents_half_written == totals.check_failures_after_kill == 0
    return 0 if healthy and totals.resumed_ok == totals.trials else 1


def soak(workdir: Path, trials: int, files: int, chooser: random.Random) -> Totals:
    """Run the trials in workdir (docs/ and index/ are made there)."""
    docs, index = workdir / "docs", workdir / "index"
    docs.mkdir()
    for number in range(files):
        _write_document(docs, number, chooser)
    _run(["ingest", str(docs)], index)
    durations = {operation: _timed(operation, docs, index, chooser) for operation in OPERATIONS}
    totals = Totals()
    for trial in range(trials):
        operation = OPERATIONS[trial % len(OPERATIONS)]
        _trial(operation, docs, index, chooser, durations[operation], totals)
        print(f"\rtrial {trial + 1}/{trials}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return totals


def _trial(
    operation: str, docs: Path, index: Path, chooser: random.Random, duration: float, totals: Totals
) -> None:
    before = _snapshot(index)
    command, removing = _prepare(operation, docs, index, chooser, before)
    process = subprocess.Popen(
        [*RAG, *command, "--index", str(index), *MODEL], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(chooser.uniform(0.0, duration))
    totals.killed_while_running += process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    totals.trials += 1
    totals.by_operation[operation] = totals.by_operation.get(operation, 0) + 1
    # The repair trial damaged vectors.faiss on purpose: until the repair finishes, that damage
    # is expected to be found; anything else is not.
    problems = [
        problem
        for problem in rag.check_index(index).problems
        if not (operation == "repair" and problem.startswith("vectors.faiss"))
    ]
    if problems:
        totals.check_failures_after_kill += 1
        totals.problems += [f"{operation}: {problem}" for problem in problems]
    _compare(before, _snapshot(index), _expected_texts(docs), removing, operation, totals)
    if not (operation == "remove" and removing.isdisjoint(_snapshot(index))):
        _run(command, index)  # resume: the same command again, to completion
    final = _snapshot(index)
    expected = {source: text for source, text in _expected_texts(docs).items() if source not in removing}
    if (
        rag.check_index(index).is_healthy
        and all(final.get(source) == text for source, text in expected.items())
        and removing.isdisjoint(final)
    ):
        totals.resumed_ok += 1
    else:
        totals.problems.append(f"{operation}: the index was not right after running it again")


def _prepare(
    operation: str, docs: Path, index: Path, chooser: random.Random, before: dict[str, str]
) -> tuple[list[str], set[str]]:
    """Change the corpus for the operation; return its command and the sources it may remove."""
    files = sorted(docs.iterdir())
    if operation == "update":
        for path in chooser.sample(files, min(10, len(files))):
            path.write_text(path.read_text() + "\n\n" + _paragraph(chooser) + "\n")
        return ["ingest", str(docs)], set()
    if operation == "remove" and before:
        source = chooser.choice(sorted(before))
        Path(source).unlink(missing_ok=True)  # so that a resumed ingest does not bring it back
        return ["remove", source], {source}
    if operation == "prune":
        gone = chooser.sample(files, min(5, len(files)))
        for path in gone:
            path.unlink()
        for _ in gone:  # keep the corpus size: new files replace the pruned ones
            _write_document(docs, chooser.randrange(10**6, 10**7), chooser)
        return ["ingest", str(docs), "--prune"], {str(path) for path in gone}
    if operation == "repair":
        vectors = index / "vectors.faiss"
        if vectors.exists():
            data = bytearray(vectors.read_bytes())
            data[len(data) // 2] ^= 0xFF
            vectors.write_bytes(bytes(data))
        return ["check", "--repair"], set()
    return ["ingest", str(docs)], set()


def _compare(
    before: dict[str, str],
    after: dict[str, str],
    current: dict[str, str],
    removing: set[str],
    operation: str,
    totals: Totals,
) -> None:
    """Every document is its old or its new version; none is gone unless being removed."""
    for source in before:
        if source not in after and source not in removing:
            totals.documents_lost += 1
            totals.problems.append(f"{operation}: {source} was lost")
    for source, text in after.items():
        if text not in (before.get(source), current.get(source)):
            totals.documents_half_written += 1
            totals.problems.append(f"{operation}: {source} is neither its old nor its new version")


def _snapshot(index: Path) -> dict[str, str]:
    with rag.open(index, rag.Settings(embedding_model="hashing-256")) as base:
        return {info.source: base.document(info.source).text for info in base.documents()}


def _expected_texts(docs: Path) -> dict[str, str]:
    return {str(path): path.read_text() for path in sorted(docs.iterdir())}


def _timed(operation: str, docs: Path, index: Path, chooser: random.Random) -> float:
    """How long the operation takes uninterrupted: kills are spread over that time."""
    command, _ = _prepare(operation, docs, index, chooser, _snapshot(index))
    started = time.perf_counter()
    _run(command, index)
    return time.perf_counter() - started


def _run(command: list[str], index: Path) -> int:
    argv = [*RAG, *command, "--index", str(index), *MODEL]
    return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode


def _write_document(docs: Path, number: int, chooser: random.Random) -> None:
    suffix = ".md" if number % 3 == 0 else ".txt"
    paragraphs = [_paragraph(chooser) for _ in range(chooser.randint(2, 12))]
    heading = f"# Note {number}\n\n" if suffix == ".md" else ""
    (docs / f"note-{number:07d}{suffix}").write_text(heading + "\n\n".join(paragraphs) + "\n")


def _paragraph(chooser: random.Random) -> str:
    sentences = (
        " ".join(chooser.choice(WORDS) for _ in range(chooser.randint(6, 18))).capitalize() + "."
        for _ in range(chooser.randint(3, 8))
    )
    return " ".join(sentences)


def summary(totals: Totals) -> str:
    """The totals as a few lines of text."""
    lines = [
        f"trials: {totals.trials} ({', '.join(f'{name} {count}' for name, count in totals.by_operation.items())})",
        f"killed while still running: {totals.killed_while_running}",
        f"documents lost: {totals.documents_lost}",
        f"documents half-written: {totals.documents_half_written}",
        f"rag check failures right after a kill: {totals.check_failures_after_kill}",
        f"resumed to the right index: {totals.resumed_ok}/{totals.trials}",
    ]
    lines += [f"  {problem}" for problem in totals.problems[:20]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
