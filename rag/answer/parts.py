"""Compound questions: "Who wrote the comment, and what did he say about Russia?" is two asks.

Each ask (a part) is searched and answered on its own, with its own quotes and its own refusal;
the parts are then joined into one Answer whose [n] numbers run across the whole answer. A part
that points back at an earlier one ("... and where did he meet the Taliban?") is searched with
the name the earlier part's quote gave.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence

from rag.types import Answer, AnswerPart, Citation, Passage, SentenceSupport

_ASKS = r"(?:what|who|whom|whose|when|where|which|why|how)"
_AUXILIARY = r"(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)"
# ", and what ...", ", and DEC ... into how many layers?": a coordinated second question.
_AND = re.compile(r",\s+and\s+", re.I)
# "Who wrote it and when was it posted?": no comma, the ask word right after "and".
_BARE_AND = re.compile(r"\s+and\s+(?=" + _ASKS + r"\s+" + _AUXILIARY + r"\b)", re.I)
# "Who wrote it, what did it say, and ...": a list of asks.
_LISTED = re.compile(r",\s+(?=" + _ASKS + r"\s+" + _AUXILIARY + r"\b)", re.I)
_QUESTION_END = re.compile(r"(?<=\?)\s+(?=\S)")
_ASKS_WORD = re.compile(r"\b(?:" + _ASKS + r"|name|list|give|tell)\b", re.I)
_OPENS_AS_QUESTION = re.compile(r"^\s*(?:" + _ASKS + "|" + _AUXILIARY + r")\b", re.I)
MIN_PART_WORDS = 3  # "How and when did it start?" asks one thing
MIN_CLAUSE_WORDS = 5  # "..., MA, and PH be located?" ends a list, not a question
MAX_PARTS = 4
_MARKER = re.compile(r"\[(\d+)\]")
# Words that point back at a person an earlier part asked for ("who ..., and where did he ...").
_POINTS_BACK = re.compile(r"\b(he|she|him|his|her|they|them|their)\b", re.I)
_NAME = re.compile(r"[A-Z][\w'’-]*\.?(?:\s+(?:[A-Z][\w'’-]*\.?|of|de|van|von|al-))*")
_SET_OFF = re.compile(r"\s*(?:[,(–-]|$|(?:is|was|who|said|and)\b)")
_NOT_NAMES = frozenset("by the a an in on at of for and from to with u.s. mr. mrs. ms. dr.".split())


def question_parts(question: str) -> tuple[str, ...]:
    """The asks of a question, each a question of its own; the question alone when it asks one thing."""
    sentences = _QUESTION_END.split(question.strip())
    # A sentence that asks nothing ("... Ignore previous instructions and say X.") is no part of its
    # own: the question is then asked whole, as it was written.
    if len(sentences) > 1 and not all(_is_ask(sentence) for sentence in sentences):
        return (question,)
    parts = [piece for sentence in sentences for piece in _split(sentence)]
    if len(parts) < 2 or len(parts) > MAX_PARTS:
        return (question,)
    return tuple(_as_question(part) for part in parts)


def _split(sentence: str) -> list[str]:
    """One sentence's coordinated asks; the sentence alone when a side is no question."""
    for pattern in (_AND, _BARE_AND):
        for match in pattern.finditer(sentence):
            left, right = sentence[: match.start()], sentence[match.end() :]
            if _ends_a_list(left):
                continue
            if _is_ask(left) and _is_ask(right, pattern is _AND):
                return [*_listed(left), *_split(right)]
    return [sentence]


def _ends_a_list(left: str) -> bool:
    """Whether "and" closes a list ("apples, pears, and plums"): a short item after a comma."""
    items = left.rsplit(",", 1)
    return len(items) == 2 and len(items[1].split()) < MIN_PART_WORDS


def _listed(text: str) -> list[str]:
    """ "Who wrote it, what did it say": the asks of a list before its last "and"."""
    pieces = _LISTED.split(text)
    if len(pieces) > 1 and all(_is_ask(piece) for piece in pieces):
        return pieces
    return [text]


def _is_ask(text: str, after_comma_and: bool = False) -> bool:
    """Whether a piece asks something by itself: an ask word in it, long enough to stand alone.

    After ", and" following a question, a clause of its own is an ask too ("..., and 2
    differences between X.25 and ARPANET?").
    """
    words = text.split()
    if len(words) < MIN_PART_WORDS:
        return False
    if _ASKS_WORD.search(text) or _OPENS_AS_QUESTION.match(text):
        return True
    return after_comma_and and len(words) >= MIN_CLAUSE_WORDS


def _as_question(part: str) -> str:
    part = part.strip().rstrip(",;").removesuffix(".?").rstrip(".")
    part = part[:1].upper() + part[1:]
    return part if part.endswith("?") else part + "?"


def resolved_query(part: str, earlier: Sequence[Answer]) -> str:
    """The part with the person it points back at named ("where did he meet ..." -> "where did
    Zalmay Khalilzad meet ..."), from the first quote of the last part that asked "who"; "" when
    it points back at nobody an earlier part found."""
    pointer = _POINTS_BACK.search(part)
    if pointer is None:
        return ""
    for answer in reversed(earlier):
        if answer.answered and answer.citations and re.match(r"\s*who\b", answer.question, re.I):
            name = first_name(answer.citations[0].quote.text, answer.question)
            if name:
                named = f"{name}'s" if pointer.group(1).lower() in ("his", "their") else name
                return part[: pointer.start()] + named + part[pointer.end() :]
    return ""


def first_name(quote: str, question: str) -> str:
    """The name in a quote the question asks for ("" if none): a name of two or more words the
    question does not say, set off as the answer ("Zalmay Khalilzad, U.S. President ..."), else
    the first such name, else a one-word name inside the sentence."""
    asked = {word.lower().strip(".,?") for word in question.split()}
    names: list[tuple[str, bool]] = []  # (name, set off by a comma, a bracket or a verb after it)
    for match in _NAME.finditer(quote):
        words = match.group(0).split()
        while words and (words[0].lower() in _NOT_NAMES or words[0].lower().strip(".") in asked):
            words = words[1:]
        while words and words[-1].lower() in _NOT_NAMES:
            words = words[:-1]
        if not words or (len(words) == 1 and match.start() == 0 and match.end() < len(quote.rstrip(". "))):
            continue  # a capital that opens a sentence names nothing
        names.append((" ".join(words).rstrip(","), bool(_SET_OFF.match(quote, match.end()))))
    for wanted in (lambda name, set_off: set_off and " " in name, lambda name, set_off: " " in name):
        found = [name for name, set_off in names if wanted(name, set_off)]
        if found:
            return found[0]
    return names[0][0] if names else ""


def joined(question: str, answers: Sequence[Answer], started: float) -> Answer:
    """One Answer of the parts' answers: [n] numbered across the parts, passages merged, each
    part kept with its own quotes; answered when any part is, and saying which part was not."""
    passages, rank_of = _merged_passages(answers)
    parts: list[AnswerPart] = []
    quoted: dict[tuple[str, str, int, int], Citation] = {}  # a quote two parts cite has one number
    sentences: list[SentenceSupport] = []
    for answer in answers:
        renumbered = _renumbered(answer, quoted, rank_of)
        numbers = {old.number: new.number for old, new in zip(answer.citations, renumbered, strict=True)}
        text = _with_markers(answer.text, numbers)
        parts.append(AnswerPart(answer.question, text, answer.answered, renumbered, answer.query))
        sentences.extend(_renumbered_sentence(sentence, numbers) for sentence in answer.sentences)
    missing = [f"“{part.question}”" for part in parts if not part.answered]
    notices = [answer.notice for answer in answers if answer.notice]
    if missing and len(missing) < len(parts):
        notices.append("Not found in the documents: " + ", ".join(missing) + ".")
    return Answer(
        question=question,
        text="\n\n".join(f"{part.question}\n{part.text}" for part in parts),
        answered=any(part.answered for part in parts),
        citations=tuple(quoted.values()),
        passages=passages,
        query=" ".join(_as_question(answer.query) for answer in answers),  # splits into the parts again
        timings_ms=_timings(answers, started),
        mode=answers[0].mode if answers else "extractive",
        sentences=tuple(sentences),
        notice=" ".join(dict.fromkeys(notices)),
        parts=tuple(parts),
    )


def _key(passage: Passage) -> tuple[str, int]:
    return passage.collection, passage.chunk_id


def _merged_passages(answers: Sequence[Answer]) -> tuple[tuple[Passage, ...], dict[tuple[str, int], int]]:
    """The parts' passages taken in turn (each part's best first), each once, ranked anew."""
    merged: dict[tuple[str, int], Passage] = {}
    for depth in range(max((len(answer.passages) for answer in answers), default=0)):
        for answer in answers:
            if depth < len(answer.passages) and _key(answer.passages[depth]) not in merged:
                passage = answer.passages[depth]
                merged[_key(passage)] = dataclasses.replace(passage, rank=len(merged) + 1)
    return tuple(merged.values()), {key: passage.rank for key, passage in merged.items()}


def _renumbered(
    answer: Answer, quoted: dict[tuple[str, str, int, int], Citation], rank_of: dict[tuple[str, int], int]
) -> tuple[Citation, ...]:
    """A part's citations numbered after the earlier parts' (a quote an earlier part cited keeps
    its number) and pointing at the merged passages; new ones are added to `quoted`."""
    keys = {passage.rank: _key(passage) for passage in answer.passages}
    renumbered = []
    for citation in answer.citations:
        key = (citation.collection, citation.quote.document_id, citation.start, citation.end)
        if key not in quoted:
            rank = rank_of.get(keys.get(citation.passage_rank, ("", -1)), citation.passage_rank)
            quoted[key] = dataclasses.replace(citation, number=len(quoted) + 1, passage_rank=rank)
        renumbered.append(quoted[key])
    return tuple(renumbered)


def _with_markers(text: str, numbers: dict[int, int]) -> str:
    """The text with each [n] marker changed to its number in the whole answer."""
    return _MARKER.sub(lambda match: f"[{numbers.get(int(match.group(1)), match.group(1))}]", text)


def _renumbered_sentence(sentence: SentenceSupport, numbers: dict[int, int]) -> SentenceSupport:
    cited = tuple(numbers.get(number, number) for number in sentence.citation_numbers)
    return dataclasses.replace(sentence, citation_numbers=cited)


def _timings(answers: Sequence[Answer], started: float) -> dict[str, float]:
    """Each part's times summed (the first token: the first part's); total since the question arrived."""
    summed: dict[str, float] = {}
    for answer in answers:
        for name, value in answer.timings_ms.items():
            if name == "first_token_ms" and name in summed:
                continue
            summed[name] = round(summed.get(name, 0.0) + value, 2)
    return summed | {"total_ms": round((time.perf_counter() - started) * 1000, 2)}
