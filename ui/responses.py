"""The chat's response logic as plain functions: testable without a server or a browser."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import rag
from rag.serve import MAX_QUESTION_CHARS
from ui import render

ASK_TIME_LIMIT_SECONDS = 120.0


@dataclass(frozen=True)
class Turn:
    """One question and its (possibly partial) answer; error is set when asking failed."""

    question: str
    answer: rag.Answer | None = None
    is_final: bool = False
    error: str = ""


@dataclass(frozen=True)
class AskOptions:
    """Per-question settings chosen in the Settings tab."""

    k: int | None = None
    retrieval_mode: str | None = None
    answer_mode: str | None = None


def history_of(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """Earlier turns as role/content dicts, the history format ask_stream reads."""
    history: list[dict[str, str]] = []
    for turn in turns:
        history.append({"role": "user", "content": turn.question})
        if turn.answer is not None:
            history.append({"role": "assistant", "content": turn.answer.text})
    return history


def stream_turns(
    base: rag.KnowledgeBase,
    question: str,
    turns: Sequence[Turn],
    options: AskOptions,
    query: str | None = None,
    time_limit: float = ASK_TIME_LIMIT_SECONDS,
) -> Iterator[list[Turn]]:
    """Yield the conversation with the new turn growing as ask_stream produces partial answers."""
    # A lone surrogate cannot be sent back to the browser (orjson refuses it, cutting the
    # event stream): it becomes U+FFFD, as the rest of the question is kept.
    question = (
        question.encode("utf-8", "surrogatepass").decode("utf-8", "replace").strip()[:MAX_QUESTION_CHARS]
    )
    earlier = list(turns)
    if not question:
        return
    yield [*earlier, Turn(question)]
    deadline = time.monotonic() + time_limit
    latest: rag.Answer | None = None
    try:
        stream = base.ask_stream(
            question,
            history=history_of(earlier),
            k=options.k,
            mode=options.retrieval_mode,
            query=query,
            answer_mode=options.answer_mode,
        )
        for latest in stream:
            yield [*earlier, Turn(question, latest)]
            if time.monotonic() > deadline:
                notice = f"Stopped after {time_limit:.0f} s; the answer may be incomplete."
                latest = _with_notice(latest, notice)
                break
    except rag.RagError as error:
        yield [*earlier, Turn(question, latest, True, str(error))]
        return
    yield [*earlier, Turn(question, latest, True)]


def _with_notice(answer: rag.Answer, notice: str) -> rag.Answer:
    return replace(answer, notice=" ".join(part for part in (answer.notice, notice) if part))


def chat_messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The Chatbot's messages: escaped questions and rendered answers."""
    messages: list[dict[str, str]] = []
    for number, turn in enumerate(turns):
        messages.append({"role": "user", "content": render.question_html(turn.question)})
        if turn.error:
            content = f"<div class='answer final error'>{render.escape(turn.error)}</div>"
        elif turn.answer is None:
            content = "<div class='answer pending'>Searching the documents…</div>"
        else:
            content = render.answer_html(turn.answer, number, turn.is_final)
        messages.append({"role": "assistant", "content": content})
    return messages


def latest_answer(turns: Sequence[Turn]) -> tuple[rag.Answer | None, int]:
    """The newest answer and its turn number (-1 when there is none)."""
    for number in range(len(turns) - 1, -1, -1):
        if turns[number].answer is not None:
            return turns[number].answer, number
    return None, -1


def sources_for(base: rag.KnowledgeBase, turns: Sequence[Turn]) -> str:
    """The Sources panel for the newest answer."""
    answer, number = latest_answer(turns)
    return render.sources_html(answer, number, lru_cache(maxsize=16)(base.document))


def parse_target(target: str) -> tuple[int, int] | None:
    """'turn-number' from a clicked citation marker's class, or None when malformed."""
    turn_text, _, number_text = (target or "").strip().removeprefix("cite-").partition("-")
    if not (turn_text.isdigit() and number_text.isdigit()):
        return None
    return int(turn_text), int(number_text)


def find_citation(turns: Sequence[Turn], target: str) -> rag.Citation | None:
    """The citation a 'turn-number' target points at."""
    parsed = parse_target(target)
    if parsed is None or parsed[0] >= len(turns):
        return None
    answer = turns[parsed[0]].answer
    if answer is None:
        return None
    return next((citation for citation in answer.citations if citation.number == parsed[1]), None)


def open_citation(base: rag.KnowledgeBase, turns: Sequence[Turn], target: str) -> str:
    """The document viewer for a clicked citation, its quote highlighted."""
    citation = find_citation(turns, target)
    if citation is None:
        return render.viewer_placeholder("That citation is no longer available.")
    try:
        document = base.document(citation.quote.document_id)
    except rag.NotFoundError:
        return render.viewer_placeholder("That document has been removed from the index.")
    return render.viewer_html(document, citation.start, citation.end, citation.number)


def answer_markdown(answer: rag.Answer | None) -> str:
    """An answer with its citations as Markdown, for copying elsewhere."""
    if answer is None:
        return ""
    lines = [answer.text.strip(), ""]
    if answer.notice:
        lines += [f"_{answer.notice}_", ""]
    for citation in answer.citations:
        place = f", {citation.place}" if citation.place else ""
        lines.append(f"[{citation.number}] {citation.title or citation.source} ({citation.source}{place})")
        lines += [f"> {line}" for line in citation.quote.text.splitlines() or [""]]
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def export_markdown(turns: Sequence[Turn]) -> str:
    """The whole conversation as Markdown."""
    parts = ["# Verbatim conversation", ""]
    for turn in turns:
        parts += [f"## {turn.question}", ""]
        if turn.answer is not None:
            if turn.answer.query and turn.answer.query != turn.question:
                parts += [f"_Searched for: {turn.answer.query}_", ""]
            parts.append(answer_markdown(turn.answer))
        elif turn.error:
            parts += [f"Error: {turn.error}", ""]
    return "\n".join(parts).strip() + "\n"


def export_json(turns: Sequence[Turn]) -> str:
    """The whole conversation as JSON: each turn's question and full answer record."""
    records: list[dict[str, Any]] = [
        {
            "question": turn.question,
            "answer": turn.answer.to_dict() if turn.answer is not None else None,
            "error": turn.error or None,
        }
        for turn in turns
    ]
    return json.dumps({"turns": records}, indent=2, ensure_ascii=False)
