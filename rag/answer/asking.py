"""From a question to a streamed Answer over any retrieval: rewrite, search, then quote or generate.

`KnowledgeBase.ask_stream` runs it over one index; `rag serve` runs it over several collections
fused into one ranking, so both answer the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from rag.answer.extractive import extractive_answers
from rag.answer.generated import fallback_notice, llm_answer_stream
from rag.answer.injection import flag_instructions
from rag.answer.lexical import NO_STATISTICS, TermStatistics
from rag.embedding import Embedder
from rag.errors import RagError
from rag.llm.base import LLMError
from rag.llm.factory import chat_model_for
from rag.search.rewrite import rewrite_query
from rag.settings import ANSWER_MODES, Settings
from rag.terms import without_surrogates
from rag.types import Answer, Document, Passage

EMPTY_INDEX_NOTICE = "The index is empty: ingest some documents first."

Search = Callable[[str], Sequence[Passage]]


def answer_stream(
    question: str,
    history: Sequence[Any] | None,
    search: Search,
    load_document: Callable[[str], Document],
    embedder: Embedder,
    settings: Settings,
    is_empty: Callable[[], bool],
    query: str | None = None,
    answer_mode: str | None = None,
    statistics: TermStatistics = NO_STATISTICS,
) -> Iterator[Answer]:
    """Yield growing partial Answers to the question; the last one is final.

    `search` maps the retrieval query to ranked passages; `is_empty` says whether there is
    nothing at all to search, which the refusal then explains.
    """
    question = without_surrogates(question)  # from undecodable terminal bytes; tokenizers refuse them
    if not question.strip():
        raise RagError("the question is empty")
    answer_mode = answer_mode or settings.answer_mode
    if answer_mode not in ANSWER_MODES:
        raise RagError(f"unknown answer mode {answer_mode!r}: use one of {', '.join(ANSWER_MODES)}")
    chat_model, llm_notice = None, ""
    if answer_mode == "llm":
        try:
            chat_model = chat_model_for(settings)  # a local model loads once per process
        except LLMError as error:
            llm_notice = fallback_notice(error)
    started = time.perf_counter()
    query = (query or "").strip() or rewrite_query(question, history, chat_model)
    passages = tuple(flag_instructions(search(query)))
    retrieved = time.perf_counter()
    load = lru_cache(maxsize=None)(load_document)
    if chat_model is not None and passages:
        timings = {"retrieve_ms": round((retrieved - started) * 1000, 2)}
        try:
            yield from llm_answer_stream(
                chat_model, question, query, passages, load, embedder, settings, timings
            )
            return
        except LLMError as error:
            llm_notice = fallback_notice(error)
    if not passages and is_empty():
        llm_notice = EMPTY_INDEX_NOTICE
    yield from extractive_answers(
        question, query, passages, load, embedder, settings, started, retrieved, llm_notice, statistics
    )
