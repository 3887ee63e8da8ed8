"""The chat's response logic as plain functions: testable without a server or a browser."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import rag
from ui import render, viewer

ASK_TIME_LIMIT_SECONDS = 120.0


@dataclass(frozen=True)
class Turn:
    """One question and its (possibly partial) answer; error is set when asking failed."""

    question: str
    answer: rag.Answer | None = None
    is_final: bool = False
    error: str = ""


def history_of(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """Earlier turns as role/content dicts, the history format ask_stream reads."""
    history: list[dict[str, str]] = []
    for turn in turns:
        history.append({"role": "user", "content": turn.question})
        if turn.answer is not None:
            history.append({"role": "assistant", "content": turn.answer.text})
    return history


def stream_turns(
    corpus: rag.Corpus,
    question: str,
    turns: Sequence[Turn],
    options: rag.AskOptions,
    query: str | None = None,
) -> Iterator[list[Turn]]:
    """Yield the conversation with the new turn growing as the answer is produced.

    options are the Settings tab's (k, retrieval and answer mode); query, when given, replaces
    the rewritten retrieval query. An answer still growing after ASK_TIME_LIMIT_SECONDS stops.
    """
    earlier = list(turns)
    if not question.strip():
        return
    try:
        question = rag.clean_question(question)
    except rag.RagError as error:
        # Shown as the question's turn: a lone surrogate would cut the browser's event stream.
        yield [*earlier, Turn(rag.clean_question(question.strip()[:200]), None, True, str(error))]
        return
    yield [*earlier, Turn(question)]
    deadline = time.monotonic() + ASK_TIME_LIMIT_SECONDS
    latest: rag.Answer | None = None
    try:
        asked = replace(options, history=history_of(earlier), query=query)
        # An index, or served collections, logs the question (options.channel); any other corpus is asked.
        ask_stream = getattr(corpus, "ask_stream", None)
        stream = ask_stream(question, asked) if ask_stream else rag.answer_stream(question, corpus, asked)
        for latest in stream:
            yield [*earlier, Turn(question, latest)]
            if time.monotonic() > deadline:
                notice = f"Stopped after {ASK_TIME_LIMIT_SECONDS:.0f} s; the answer may be incomplete."
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


def sources_for(base: rag.Corpus, turns: Sequence[Turn]) -> str:
    """The Sources panel for the newest answer, with a thumbnail of each PDF or picture quote."""
    answer, number = latest_answer(turns)
    load = lru_cache(maxsize=16)(base.document)
    thumbnails: dict[int, str] = {}
    for citation in answer.citations if answer is not None else ():
        try:
            png = viewer.thumbnail_of(base, load(citation.source), citation)
        except rag.NotFoundError:
            continue
        thumbnails[citation.number] = viewer.thumbnail_html(png, number, citation)
    return render.sources_html(answer, number, load, thumbnails)


def parse_target(target: str) -> tuple[int, int] | None:
    """'turn-number' from a clicked citation marker's class, or None when malformed."""
    turn_text, _, number_text = (target or "").strip().removeprefix("cite-").partition("@")[0].partition("-")
    if not (turn_text.isdigit() and number_text.isdigit()):
        return None
    return int(turn_text), int(number_text)


def target_page(target: str) -> int | None:
    """The page asked for by a viewer's previous/next button ('T-N@P'); None for the quote's own."""
    page = (target or "").strip().partition("@")[2]
    return int(page) if page.isdigit() else None


def find_citation(turns: Sequence[Turn], target: str) -> rag.Citation | None:
    """The citation a 'turn-number' target points at."""
    parsed = parse_target(target)
    if parsed is None or parsed[0] >= len(turns):
        return None
    answer = turns[parsed[0]].answer
    if answer is None:
        return None
    return next((citation for citation in answer.citations if citation.number == parsed[1]), None)


def open_citation(base: rag.Corpus, turns: Sequence[Turn], target: str) -> str:
    """The document viewer for a clicked citation: its page(s) with the quote highlighted for a
    PDF or picture (or the page a previous/next button asked for), and its text."""
    citation = find_citation(turns, target)
    if citation is None:
        return viewer.viewer_placeholder("That citation is no longer available.")
    # Served collections (a Selection) may each show a file under the same name: look in the
    # citation's own collection.
    narrowed_to = getattr(base, "narrowed_to", None)
    if narrowed_to is not None and citation.collection:
        base = narrowed_to(citation.collection)
    try:
        # By its source: files with the same text share a document id, not their pages.
        document = base.document(citation.source)
    except rag.NotFoundError:
        return viewer.viewer_placeholder("That document has been removed from the index.")
    turn, number = parse_target(target) or (0, 0)
    view = viewer.page_view_of(base, document, citation, f"{turn}-{number}", target_page(target))
    return viewer.viewer_html(document, citation, view)


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
