"""From a question to a streamed Answer over any Corpus: prepare, rewrite, search, quote or generate.

`KnowledgeBase.ask_stream` runs it over one index; `rag serve` runs it over several collections
fused into one ranking (`Collections.select`), so both answer the same way.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

from rag.answer.computed import computed_answer
from rag.answer.corpus import Corpus
from rag.answer.evidence import Evidence, gather
from rag.answer.extractive import extractive_answers
from rag.answer.generated import fallback_notice, llm_answer_stream
from rag.answer.parts import joined, question_parts, resolved_query
from rag.answer.question import AskOptions, PreparedQuestion, prepare_question
from rag.answer.sources import narrowed
from rag.llm.base import ChatModel, LLMError
from rag.llm.factory import chat_model_for
from rag.search.rewrite import rewrite_query
from rag.settings import Settings
from rag.types import Answer


def answer_stream(question: str, corpus: Corpus, options: AskOptions | None = None) -> Iterator[Answer]:
    """Yield growing partial Answers to the question; the last one is final.

    The question is checked here, once, for every caller: a bad one raises QuestionError (or
    SettingsError, for an unknown mode) before anything is searched.
    """
    prepared = prepare_question(question, options, corpus.settings)
    return _identified(_answers(prepared, corpus), new_answer_id())


def new_answer_id() -> str:
    """A fresh answer id."""
    return f"ans-{uuid.uuid4().hex[:24]}"


def _identified(answers: Iterator[Answer], answer_id: str) -> Iterator[Answer]:
    """The answers, each carrying the one id of the question's answer."""
    try:
        for answer in answers:
            yield replace(answer, id=answer_id)
    finally:
        close = getattr(answers, "close", None)
        if close is not None:
            close()


def on_final(answers: Iterator[Answer], record: Callable[[Answer, float], None]) -> Iterator[Answer]:
    """The answers, then record(final answer, milliseconds since the first was asked for).

    A stream the caller stops reading (the chat's time limit) records the latest answer it got;
    a stream that fails records nothing.
    """
    started = time.perf_counter()
    latest: Answer | None = None
    finished = False
    try:
        for latest in answers:
            yield latest
        finished = True
    except GeneratorExit:
        finished = True
        raise
    finally:
        close = getattr(answers, "close", None)
        if close is not None:
            close()
        if finished and latest is not None:
            record(latest, (time.perf_counter() - started) * 1000)


def evidence_for(question: str, corpus: Corpus, options: AskOptions | None = None) -> Evidence:
    """What answering the question would read: the query it is searched with and the passages found."""
    prepared = prepare_question(question, options, corpus.settings)
    return _evidence(prepared, corpus, None)


def _answers(prepared: PreparedQuestion, corpus: Corpus) -> Iterator[Answer]:
    """A single question's answers, or a compound question's, part by part.

    A query given for a compound question (the UI's edited "Searched for") is split the same way;
    one that does not split into as many parts is searched whole, as the caller asked.
    """
    parts = question_parts(prepared.text)
    given = question_parts(prepared.query) if prepared.query else ()
    if len(parts) > 1 and (not given or len(given) == len(parts)):
        return _compound_answers(prepared, parts, corpus)
    return _single_answers(prepared, corpus)


def _compound_answers(prepared: PreparedQuestion, parts: tuple[str, ...], corpus: Corpus) -> Iterator[Answer]:
    """Each part asked on its own (a later one may name what an earlier one found), joined as they grow."""
    started = time.perf_counter()
    given = question_parts(prepared.query) if prepared.query else ()
    done: list[Answer] = []
    for index, part in enumerate(parts):
        query = given[index] if given else resolved_query(part, done)
        asked = dataclasses.replace(prepared, text=part, query=query)
        latest = None
        for latest in _single_answers(asked, corpus):
            yield joined(prepared.text, [*done, latest], started)
        if latest is not None:
            done.append(latest)


def _single_answers(prepared: PreparedQuestion, corpus: Corpus) -> Iterator[Answer]:
    chat_model, notice = _chat_model(prepared.answer_mode == "llm", corpus.settings)
    evidence = _evidence(prepared, corpus, chat_model)
    computed = computed_answer(evidence)
    # A number over several rows is computed in either mode: a model's arithmetic is never
    # checked. A single row's value a model reads as well, and its sentence is verified.
    if computed is not None and (chat_model is None or not _is_lookup(computed)):
        yield computed
        return
    if chat_model is not None and evidence.passages:
        try:
            yield from llm_answer_stream(chat_model, evidence)
            return
        except LLMError as error:
            notice = fallback_notice(error)
    yield from extractive_answers(evidence.with_notice(" ".join(filter(None, (evidence.notice, notice)))))


def _evidence(prepared: PreparedQuestion, corpus: Corpus, chat_model: ChatModel | None) -> Evidence:
    """Rewrite a follow-up into a standalone query (unless one was given), then search with it,
    only in the documents it names when it names some ("according to the Stratfor piece")."""
    started = time.perf_counter()
    query = prepared.query or rewrite_query(prepared.text, prepared.history, chat_model)
    query, searched, notice = narrowed(query, corpus)
    return gather(prepared, query, searched, started).with_notice(notice)


def _is_lookup(answer: Answer) -> bool:
    return answer.computation is not None and answer.computation.operation == "lookup"


def _chat_model(wanted: bool, settings: Settings) -> tuple[ChatModel | None, str]:
    """The configured language model when one is wanted, or None and why it is not there."""
    if not wanted:
        return None, ""
    try:
        return chat_model_for(settings), ""  # a local model loads once per process
    except LLMError as error:
        return None, fallback_notice(error)
