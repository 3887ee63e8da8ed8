"""The `llm` answer mode: a language model writes, the verifier decides what is supported."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from rag.answer.evidence import Evidence
from rag.answer.refusal import NOT_FOUND, claims_nothing, generated_refusal_notice
from rag.answer.verification import VerifiedSentence, Verifier, answer_sentences, compose_verified
from rag.llm.base import ChatModel, LLMError, Message
from rag.prompts import ANSWER_SYSTEM_PROMPT, ANSWER_USER_TEMPLATE, PASSAGE_TEMPLATE
from rag.types import Answer, Document, Passage


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


def llm_answer_stream(chat_model: ChatModel, evidence: Evidence) -> Iterator[Answer]:
    """Yield growing Answers while the model writes; finished sentences are verified as they come."""
    started = time.perf_counter()
    timings = {"retrieve_ms": _ms(evidence.started, evidence.retrieved)}
    settings, load_document = evidence.settings, evidence.document
    question, query, passages = evidence.question, evidence.query, evidence.ranked
    verifier = Verifier(
        evidence.passages, load_document, evidence.embedder, settings.support_threshold, question
    )
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
        timings["total_ms"] = timings["retrieve_ms"] + _ms(started)
        if not citations:
            notice = generated_refusal_notice(finished)
            return Answer(
                question, NOT_FOUND, False, (), passages, query, dict(timings), "llm", supports, notice
            )
        return Answer(question, text, True, citations, passages, query, dict(timings), "llm", supports)

    raw = ""
    messages = build_messages(question, evidence.passages, load_document)
    for piece in chat_model.stream(messages, settings.llm_max_tokens):
        if not raw:
            timings["first_token_ms"] = _ms(started)
        raw += piece
        yield answer(raw, final=False)
    timings["generate_ms"] = _ms(started)
    yield answer(raw, final=True)


def _verify(verifier: Verifier, sentence: str) -> VerifiedSentence:
    """A sentence that claims nothing (a refusal, a question) is never supported."""
    if claims_nothing(sentence):
        return VerifiedSentence(sentence, 0.0, None)
    return verifier.verify(sentence)


def _ms(start: float, end: float | None = None) -> float:
    return round(((time.perf_counter() if end is None else end) - start) * 1000, 2)
