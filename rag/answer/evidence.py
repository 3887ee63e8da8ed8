"""Evidence: everything found for one question, handed whole to the step that answers it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rag.answer.corpus import Corpus
from rag.answer.lexical import TermStatistics
from rag.answer.question import PreparedQuestion
from rag.embedding import Embedder
from rag.errors import NotFoundError
from rag.settings import Settings
from rag.types import Document, Passage


@dataclass(frozen=True)
class Evidence:
    """A question, the query it was searched with, the passages found and how to read them.

    The answer reads `passages`, the first k of `ranked`; the answer carries `ranked` (the same
    passages unless more were asked for, as evaluation does for its retrieval metrics).

    `document` loads a passage's document once per question; `embedder` already holds the
    question's vector from the search. `started` and `retrieved` are perf_counter() readings
    (when the question arrived, when its search finished), for the answer's timings.
    """

    question: str
    query: str
    passages: tuple[Passage, ...]  # the k the answer reads
    ranked: tuple[Passage, ...]  # every passage ranked (depth >= k), kept on the answer
    document: Callable[[str], Document] = field(repr=False)
    embedder: Embedder = field(repr=False)
    statistics: TermStatistics = field(repr=False)
    settings: Settings = field(repr=False)
    started: float = 0.0
    retrieved: float = 0.0
    notice: str = ""
    corpus_is_empty: bool = False  # asked only when nothing was found

    def with_notice(self, notice: str) -> Evidence:
        """The same evidence with a notice for the reader (the LLM was unavailable, the index is empty)."""
        return replace(self, notice=notice)

    def timings(self) -> dict[str, float]:
        """retrieve_ms, answer_ms and total_ms as of now."""
        now = time.perf_counter()
        return {
            "retrieve_ms": _ms(self.retrieved - self.started),
            "answer_ms": _ms(now - self.retrieved),
            "total_ms": _ms(now - self.started),
        }


def gather(question: PreparedQuestion, query: str, corpus: Corpus, started: float) -> Evidence:
    """Search the corpus for the query and collect what answering the question needs."""
    embedder = corpus.question_embedder()
    found = corpus.search(query, question.depth, question.retrieval_mode, embedder)
    document = lru_cache(maxsize=None)(corpus.document)
    gone = _removed_since_found(found[: question.k], document)
    if gone:
        found = [passage for passage in found if passage.document_id not in gone]
    return Evidence(
        question=question.text,
        query=query,
        passages=tuple(found[: question.k]),
        ranked=tuple(found),
        document=document,
        embedder=embedder,
        statistics=corpus.term_statistics(),
        settings=corpus.settings,
        started=started,
        retrieved=time.perf_counter(),
        corpus_is_empty=not found and corpus.is_empty(),
    )


def _removed_since_found(passages: Sequence[Passage], document: Callable[[str], Document]) -> set[str]:
    """Ids of documents removed between the search and now (loaded here once, for the answer)."""
    gone = set()
    for passage in passages:
        try:
            document(passage.document_id)
        except NotFoundError:
            gone.add(passage.document_id)
    return gone


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
