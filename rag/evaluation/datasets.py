"""Evaluation inputs: question-set JSONL, BEIR folders, and cached indexes built from a corpus."""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.embedding import Embedder
from rag.errors import RagError
from rag.knowledge_base import KnowledgeBase, open_index
from rag.settings import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, DEFAULT_MODEL, Settings
from rag.storage.store import FORMAT_VERSION
from rag.types import ProgressCallback, TextItem

COMPLETE_MARKER = ".eval-complete"


class EvalDataError(RagError):
    """A question set, BEIR folder or corpus that cannot be read."""


@dataclass(frozen=True)
class Question:
    """One row of a question set."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    reference_answer: str = ""
    sources: tuple[str, ...] = ()
    answerable: bool = True
    relevance: dict[str, float] = field(default_factory=dict)  # BEIR qrels: corpus id -> grade
    # Why a question is asked but not scored yet: "not_helpful" (from feedback, no right answer
    # given), "stale: ..." (its document changed since); "" for a scored question.
    review: str = ""
    # A compound question's parts, each a tuple of acceptable answers: every part must be quoted.
    answer_parts: tuple[tuple[str, ...], ...] = ()
    kind: str = ""  # the kind of question, for per-kind reporting ("same-passage", "two-passage")
    # The conversation a follow-up question was asked in ({"role", "content"} turns, oldest first):
    # it is asked with it, so "and when did it open?" means what it meant then.
    history: tuple[dict[str, str], ...] = ()


def _history(value: object, path: Path, number: int) -> tuple[dict[str, str], ...]:
    """A row's `history`: a list of {"role": "user"|"assistant", "content": text} turns."""
    if value is None:
        return ()
    turns = value if isinstance(value, list) else None
    if turns is None or not all(
        isinstance(turn, dict) and isinstance(turn.get("role"), str) and isinstance(turn.get("content"), str)
        for turn in turns
    ):
        raise EvalDataError(f'{path}:{number}: history must be a list of {{"role", "content"}} turns')
    return tuple({"role": turn["role"], "content": turn["content"]} for turn in turns)


def read_jsonl(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSONL file, with the line number in any error."""
    try:
        with path.open(encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as error:
                        raise EvalDataError(f"{path}:{number}: not valid JSON ({error.msg})") from None
    except OSError as error:
        raise EvalDataError(f"cannot read {path}: {error.strerror or error}") from None


def load_questions(path: Path) -> list[Question]:
    """A question set: one {"id", "question", "answers", "reference_answer", "sources", "answerable",
    "answer_parts", "kind", "review", "history"} a line."""
    questions = []
    for number, row in enumerate(read_jsonl(path), start=1):
        if not str(row.get("question", "")).strip():
            raise EvalDataError(f"{path}: row {number} has no 'question'")
        questions.append(
            Question(
                id=str(row.get("id", number)),
                question=str(row["question"]),
                answers=tuple(str(answer) for answer in row.get("answers") or ()),
                reference_answer=str(row.get("reference_answer") or ""),
                sources=tuple(str(source) for source in row.get("sources") or ()),
                answerable=bool(row.get("answerable", True)),
                review=str(row.get("review") or ""),
                answer_parts=tuple(
                    tuple(str(answer) for answer in part) for part in row.get("answer_parts") or ()
                ),
                kind=str(row.get("kind") or ""),
                history=_history(row.get("history"), path, number),
            )
        )
    if not questions:
        raise EvalDataError(f"{path} holds no questions")
    return questions


def is_beir_folder(path: Path) -> bool:
    """True for a folder with corpus.jsonl, queries.jsonl and qrels/."""
    return path.is_dir() and (path / "queries.jsonl").is_file() and (path / "qrels").is_dir()


def load_beir_queries(folder: Path, split: str = "test") -> list[Question]:
    """BEIR queries that have relevance judgements in qrels/<split>.tsv."""
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        splits = ", ".join(sorted(path.stem for path in (folder / "qrels").glob("*.tsv")))
        raise EvalDataError(f"{qrels_path} is missing; pass --split with one of: {splits or 'none found'}")
    relevance: dict[str, dict[str, float]] = {}
    with qrels_path.open(encoding="utf-8") as stream:
        for row in csv.reader(stream, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            relevance.setdefault(row[0], {})[row[1]] = float(row[2])
    texts = {str(row["_id"]): str(row["text"]) for row in read_jsonl(folder / "queries.jsonl")}
    return [
        Question(
            id=query_id,
            question=texts[query_id],
            sources=tuple(name for name, grade in grades.items() if grade > 0),
            relevance=grades,
        )
        for query_id, grades in relevance.items()
        if query_id in texts and any(grade > 0 for grade in grades.values())
    ]


def beir_items(path: Path, include: Sequence[str] = ()) -> list[TextItem]:
    """A BEIR corpus.jsonl as TextItems whose source is the `_id`; title and text joined."""
    items = []
    for row in read_jsonl(path):
        source, title, text = str(row["_id"]), str(row.get("title") or ""), str(row.get("text") or "")
        if include and not any(fnmatch.fnmatchcase(source, pattern) for pattern in include):
            continue
        items.append(
            TextItem(source=source, title=title or source, text=f"{title}\n\n{text}" if title else text)
        )
    return items


def corpus_files(path: Path, include: Sequence[str] = ()) -> list[Path]:
    """The files of a corpus folder (or the one file) whose name matches an include pattern."""
    files = sorted(child for child in path.rglob("*") if child.is_file()) if path.is_dir() else [path]
    files = [file for file in files if not any(part.startswith(".") for part in file.relative_to(path).parts)]
    if include:
        files = [file for file in files if any(fnmatch.fnmatchcase(file.name, p) for p in include)]
    return files


# Bumped when ingest starts to index chunks differently, so cached corpus indexes are rebuilt.
INDEX_RECIPE = "contextual chunk headers"


def corpus_key(corpus: Path, settings: Settings, embedder_name: str, include: Sequence[str]) -> str:
    """Content hash of the corpus plus everything that changes the index built from it."""
    digest = hashlib.sha256()
    recipe = [
        FORMAT_VERSION,
        embedder_name,
        settings.chunk_size or DEFAULT_CHUNK_SIZE,
        DEFAULT_CHUNK_OVERLAP if settings.chunk_overlap is None else settings.chunk_overlap,
        sorted(include),
        INDEX_RECIPE,
    ]
    digest.update(json.dumps(recipe).encode())
    root = corpus if corpus.is_dir() else corpus.parent
    for file in corpus_files(corpus) if corpus.is_dir() else [corpus]:
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:24]


def default_cache_dir() -> Path:
    """Where corpus indexes are cached: $RAG_EVAL_CACHE, else a folder in the system temp dir."""
    return Path(os.environ.get("RAG_EVAL_CACHE") or Path(tempfile.gettempdir()) / "verbatim-eval-cache")


def open_corpus_index(
    corpus: Path,
    settings: Settings,
    embedder: Embedder | None = None,
    include: Sequence[str] = (),
    cache_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> KnowledgeBase:
    """An index of the corpus (folder, file or BEIR corpus.jsonl), built once and reused by hash."""
    if not corpus.exists():
        raise EvalDataError(f"corpus {corpus} does not exist; pass a folder of documents or a corpus.jsonl")
    if corpus.is_dir() and (corpus / "corpus.jsonl").is_file():
        corpus = corpus / "corpus.jsonl"
    name = embedder.name if embedder else (settings.embedding_model or DEFAULT_MODEL)
    # int8 ONNX and fp32 torch vectors differ slightly: each backend builds its own index.
    backend = getattr(embedder, "backend", None) if embedder else settings.embedding_backend
    key = corpus_key(corpus, settings, f"{name} ({backend or 'default'} backend)", include)
    folder = (cache_dir or default_cache_dir()) / key
    if (folder / COMPLETE_MARKER).is_file():
        return open_index(folder, settings, embedder)
    shutil.rmtree(folder, ignore_errors=True)  # a half-built index from an interrupted run
    base = open_index(folder, settings, embedder)
    if corpus.suffix == ".jsonl":
        items = beir_items(corpus, include)
        if not items:
            raise EvalDataError(f"no documents of {corpus} match {', '.join(include)}")
        report = base.add_texts(items, progress=progress)
    else:
        files = corpus_files(corpus, include)
        if not files:
            raise EvalDataError(f"no files of {corpus} match {', '.join(include) or 'any pattern'}")
        report = base.ingest(files, progress=progress)
    if report.count("failed") == len(report.files):
        raise EvalDataError(f"no document of {corpus} could be indexed: {report.files[0].reason}")
    (folder / COMPLETE_MARKER).write_text(json.dumps({"corpus": str(corpus), "include": list(include)}))
    return base
