"""The `llm` answer mode: a language model writes, the verifier decides what is supported."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from rag.answer.extractive import NOT_FOUND
from rag.answer.verification import VerifiedSentence, Verifier, answer_sentences, compose_verified
from rag.embedding import Embedder
from rag.llm.base import ChatModel, LLMError, Message
from rag.prompts import (
    ANSWER_SYSTEM_PROMPT,
    ANSWER_USER_TEMPLATE,
    NOT_IN_DOCUMENTS_PATTERNS,
    PASSAGE_TEMPLATE,
)
from rag.settings import Settings
from rag.types import Answer, Document, Passage

UNSUPPORTED_NOTICE = "The model's answer is not supported by the documents, so it is not shown."
REFUSED_NOTICE = "The language model found no answer in the documents."


def fallback_notice(error: LLMError) -> str:
    """What to tell the user when the extractive answer replaces the LLM's."""
    return f"The language model is unavailable ({error}); showing the extractive answer instead."


def build_messages(
    question: str, passages: Sequence[Passage], load_document: Callable[[str], Document] | None = None
) -> list[Message]:
    """System rules plus the numbered passages fenced as data, then the question.

    With load_document, each passage is given as it reads on its own (.csv rows with their headers).
    """
    numbered = "\n\n".join(
        PASSAGE_TEMPLATE.format(
            number=number,
            source=passage.title or passage.source,
            text=_fenced(_readable(passage, load_document)),
        )
        for number, passage in enumerate(passages, start=1)
    )
    user = ANSWER_USER_TEMPLATE.format(passages=numbered, question=question.strip())
    return [{"role": "system", "content": ANSWER_SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _readable(passage: Passage, load_document: Callable[[str], Document] | None) -> str:
    if load_document is None:
        return passage.text
    return load_document(passage.document_id).readable(passage.start, passage.end)


def _fenced(text: str) -> str:
    """Passage text that cannot close the data fence early."""
    return text.replace("</passages>", "</ passages>").replace("<passages>", "< passages>")


def says_not_in_documents(sentence: str) -> bool:
    """True when a sentence of the model is its way of saying the passages do not answer."""
    lowered = sentence.lower().replace("’", "'")
    return any(pattern in lowered for pattern in NOT_IN_DOCUMENTS_PATTERNS)


def llm_answer_stream(
    chat_model: ChatModel,
    question: str,
    query: str,
    passages: Sequence[Passage],
    load_document: Callable[[str], Document],
    embedder: Embedder,
    settings: Settings,
    timings: dict[str, float] | None = None,
) -> Iterator[Answer]:
    """Yield growing Answers while the model writes; finished sentences are verified as they come."""
    started = time.perf_counter()
    timings = dict(timings or {})
    passages = tuple(passages)
    verifier = Verifier(passages, load_document, embedder, settings.support_threshold, question)
    verifier.evidence()  # embed the passage sentences before tokens start to flow

    def answer(raw: str, final: bool) -> Answer:
        sentences = answer_sentences(raw)
        finished = sentences if final else sentences[:-1]
        verified = [_verify(verifier, sentence) for sentence in finished]
        text, citations, supports = compose_verified(verified, load_document, settings.drop_unsupported)
        if not final:
            # The unfinished sentence is unchecked: a strict reader sees only verified ones.
            tail = sentences[-1] if sentences and not settings.drop_unsupported else ""
            text = f"{text} {tail}".strip()
            return Answer(question, text, True, citations, passages, query, dict(timings), "llm", supports)
        timings["total_ms"] = timings.get("retrieve_ms", 0.0) + _ms(started)
        if not citations:
            refused = any(says_not_in_documents(sentence) for sentence in finished) or not finished
            notice = REFUSED_NOTICE if refused else UNSUPPORTED_NOTICE
            return Answer(
                question, NOT_FOUND, False, (), passages, query, dict(timings), "llm", supports, notice
            )
        return Answer(question, text, True, citations, passages, query, dict(timings), "llm", supports)

    raw = ""
    for piece in chat_model.stream(
        build_messages(question, passages, load_document), settings.llm_max_tokens
    ):
        if not raw:
            timings["first_token_ms"] = _ms(started)
        raw += piece
        yield answer(raw, final=False)
    timings["generate_ms"] = _ms(started)
    yield answer(raw, final=True)


def _verify(verifier: Verifier, sentence: str) -> VerifiedSentence:
    """Refusals and questions (often the question echoed back) claim nothing: never supported."""
    if says_not_in_documents(sentence) or sentence.rstrip().endswith("?"):
        return VerifiedSentence(sentence, 0.0, None)
    return verifier.verify(sentence)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
