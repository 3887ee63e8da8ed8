"""A question prepared once, where it enters the question path: cleaned, limited, modes checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rag.errors import RagError
from rag.settings import ANSWER_MODES, RETRIEVAL_MODES, AnswerMode, RetrievalMode, Settings, choice
from rag.terms import without_surrogates

MAX_QUESTION_CHARS = 2000  # a question, not a document: longer text is refused, never cut
MAX_K = 1000  # passages one question may ask for
# Earlier turns only steer the follow-up rewrite (which reads the last few questions): a long
# chat is kept to its recent part, each turn cut, so no request can grow the rewrite prompt.
MAX_HISTORY_TURNS = 20
MAX_TURN_CHARS = MAX_QUESTION_CHARS
MAX_HISTORY_CHARS = 4 * MAX_QUESTION_CHARS


class QuestionError(RagError):
    """A question or a per-question option the caller got wrong (empty, too long, unknown mode)."""


@dataclass(frozen=True)
class AskOptions:
    """Per-question choices; None means the corpus's setting.

    history: earlier turns ({"role", "content"} mappings) a follow-up refers to; query: the
    retrieval query to use instead of rewriting the question; k: passages the answer reads;
    depth: passages ranked and kept on the answer (at least k: evaluation reads 20 of them);
    channel: where the question came from (ui, api, mcp, cli): a question that names one is
    written to the index's question log (Settings.log_questions), with asked_by as who asked.
    """

    history: Sequence[Mapping[str, str]] = ()
    query: str | None = None
    k: int | None = None
    retrieval_mode: RetrievalMode | None = None
    answer_mode: AnswerMode | None = None
    depth: int | None = None
    channel: str = ""
    asked_by: str = ""


@dataclass(frozen=True)
class PreparedQuestion:
    """A question ready to answer: its text cleaned and every option resolved against the settings."""

    text: str
    history: tuple[object, ...]  # role/content mappings, strings or (question, answer) pairs
    query: str  # "" when the question is to be rewritten into one
    k: int
    depth: int
    retrieval_mode: RetrievalMode
    answer_mode: AnswerMode


def clean_text(text: str, name: str = "question") -> str:
    """The text with lone surrogates replaced and outer spaces cut; empty or too long is an error."""
    if not isinstance(text, str):
        raise QuestionError(f"the {name} must be text, not {type(text).__name__}")
    cleaned = without_surrogates(text).strip()  # from undecodable bytes; tokenizers refuse them
    if not cleaned:
        raise QuestionError(f"the {name} is empty")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the {name} is {len(cleaned)} characters; the limit is {MAX_QUESTION_CHARS}")
    return cleaned


def clean_question(text: str) -> str:
    """The question as it will be asked: what a chat shows before the answer arrives."""
    return clean_text(text, "question")


def _cut_turn(turn: object, room: int) -> tuple[object, int] | None:
    """The turn with its text cut to `room` characters, and how many it kept; None for junk."""
    if isinstance(turn, str):
        return turn[:room], min(len(turn), room)
    if isinstance(turn, Mapping):
        content = turn.get("content")
        text = content[:room] if isinstance(content, str) else ""
        return {**turn, "content": text}, len(text)
    if isinstance(turn, list | tuple):
        question = turn[0][:room] if turn and isinstance(turn[0], str) else ""
        reply = turn[1] if len(turn) > 1 and isinstance(turn[1], str) else ""
        reply = reply[: room - len(question)]
        return (question, reply), len(question) + len(reply)
    return None


def bounded_history(history: Sequence[object] | None) -> tuple[object, ...]:
    """The most recent turns, each at most MAX_TURN_CHARS and MAX_HISTORY_CHARS in all."""
    kept: list[object] = []
    room = MAX_HISTORY_CHARS
    for turn in reversed(list(history or ())[-MAX_HISTORY_TURNS:]):
        cut = _cut_turn(turn, min(room, MAX_TURN_CHARS))
        if cut is None:
            continue
        kept.append(cut[0])
        room -= cut[1]
        if room <= 0:
            break
    return tuple(reversed(kept))


def passage_count(k: int | None, settings: Settings) -> int:
    """How many passages to return: k, else the setting; 1..MAX_K."""
    count = settings.top_k if k is None else k
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_K:
        raise QuestionError(f"k (the number of passages) must be between 1 and {MAX_K}, not {count}")
    return count


def retrieval_mode(mode: str | None, settings: Settings) -> RetrievalMode:
    """The retrieval mode asked for, else the setting; an unknown one is an error."""
    if mode is None:
        return settings.retrieval_mode
    return choice(mode, RETRIEVAL_MODES, "retrieval mode")


def prepare_question(text: str, options: AskOptions | None, settings: Settings) -> PreparedQuestion:
    """The one place a question is checked: every caller (API, CLI, UI, server, evaluation) gets here."""
    options = options or AskOptions()
    k = passage_count(options.k, settings)
    depth = max(k, passage_count(options.depth, settings) if options.depth is not None else k)
    answer_mode = (
        settings.answer_mode
        if options.answer_mode is None
        else choice(options.answer_mode, ANSWER_MODES, "answer mode")
    )
    return PreparedQuestion(
        text=clean_question(text),
        history=bounded_history(options.history),
        query=clean_text(options.query, "retrieval query") if options.query and options.query.strip() else "",
        k=k,
        depth=depth,
        retrieval_mode=retrieval_mode(options.retrieval_mode, settings),
        answer_mode=answer_mode,
    )
