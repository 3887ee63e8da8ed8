"""A question prepared once, where it enters the question path: cleaned, limited, modes checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rag.errors import RagError
from rag.settings import ANSWER_MODES, RETRIEVAL_MODES, AnswerMode, RetrievalMode, Settings, choice
from rag.terms import without_surrogates

MAX_QUESTION_CHARS = 2000  # a question, not a document: longer text is refused, never cut
MAX_K = 1000  # passages one question may ask for


class QuestionError(RagError):
    """A question or a per-question option the caller got wrong (empty, too long, unknown mode)."""


@dataclass(frozen=True)
class AskOptions:
    """Per-question choices; None means the corpus's setting.

    history: earlier turns ({"role", "content"} mappings) a follow-up refers to; query: the
    retrieval query to use instead of rewriting the question; k: passages the answer reads;
    depth: passages ranked and kept on the answer (at least k: evaluation reads 20 of them).
    """

    history: Sequence[Mapping[str, str]] = ()
    query: str | None = None
    k: int | None = None
    retrieval_mode: RetrievalMode | None = None
    answer_mode: AnswerMode | None = None
    depth: int | None = None


@dataclass(frozen=True)
class PreparedQuestion:
    """A question ready to answer: its text cleaned and every option resolved against the settings."""

    text: str
    history: tuple[Mapping[str, str], ...]
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
        history=tuple(options.history or ()),
        query=clean_text(options.query, "retrieval query") if options.query and options.query.strip() else "",
        k=k,
        depth=depth,
        retrieval_mode=retrieval_mode(options.retrieval_mode, settings),
        answer_mode=answer_mode,
    )
