"""Refusal: when the documents do not answer, and what the reader is told then.

Every rule that decides "not found" lives here, as pure functions of the evidence (and the
settings it carries): the calibrated score threshold, the "sure" score above which a sentence
needs nothing more, the share of the question a passage must cover below it, identifiers the
question names that a document must mention, and how a language model says it found nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rag.answer.calibration import ANY_LANGUAGE, RefusalRule, calibrated_across, refusal_rule
from rag.answer.evidence import Evidence
from rag.answer.lexical import PassageCoverage
from rag.answer.measures import asks_count, counts_asked, holds_count, states_measure, without_measure
from rag.answer.question_words import identifiers
from rag.answer.scoring import ScoredSentence
from rag.language.detection import UNDETERMINED, detect_language
from rag.prompts import NOT_IN_DOCUMENTS_PATTERNS
from rag.types import Document

NOT_FOUND = "The documents do not contain an answer to this question."
EMPTY_INDEX_NOTICE = "The index is empty: ingest some documents first."
UNSUPPORTED_NOTICE = "The model's answer is not supported by the documents, so it is not shown."
REFUSED_NOTICE = "The language model found no answer in the documents."


def answering_sentences(
    scored: Sequence[ScoredSentence], evidence: Evidence, coverage: PassageCoverage
) -> list[ScoredSentence]:
    """The scored sentences that may answer, best first; none means the question is refused.

    A sentence short of the sure score is evidence only from a passage that holds enough of
    the question: one on the right topic that lacks what is asked about is not an answer (a
    lexically scored sentence has that share in its score already). A "how many X" question is
    answered only by a sentence that writes a number (a year is none), and surely only by one
    that counts X: "How many Soviet soldiers died?" is close to a sentence on the Soviet defeat
    "three decades" ago, which says nothing of soldiers. Nor is a sentence from a document that
    never names an identifier the question asks about ("the AS-206", "internet2"): a passage
    about another flight or network. Below the threshold, nothing is.
    """
    rule = _Rules(evidence)
    query = evidence.query
    names = _Mentions(identifiers(query), evidence.document)
    # A sentence stating the asked measure in other words ("a country of 35 million" for "the
    # population") needs its passage to hold only the rest of the question.
    topic = PassageCoverage(without_measure(query), evidence.document, evidence.statistics)
    count = asks_count(query)
    admitted = []
    for item in scored:
        settings = rule(item)
        sure = item.score >= settings.sure_score and (not count or counts_asked(query, item.quote.text))
        if (
            holds_count(query, item.quote.text)
            and (
                item.lexical
                # A passage in another language than the question shares none of its words.
                or rule.across(item)
                or sure
                or coverage(item) >= settings.min_coverage
                or (states_measure(query, item.quote.text) and topic(item) >= settings.min_coverage)
            )
            and names.all_in(item.quote.document_id)
        ):
            admitted.append(item)
    if not admitted or admitted[0].score < rule(admitted[0]).threshold:
        return []
    return [item for item in admitted if item.score >= rule(item).threshold]


def lowest_answering_score(evidence: Evidence, item: ScoredSentence | None) -> float:
    """The score below which a sentence (the best one found, if any) cannot answer."""
    if item is None:
        return refusal_rule(evidence.settings, evidence.embedder.name, ANY_LANGUAGE).threshold
    return _Rules(evidence)(item).threshold


def refusal_notice(evidence: Evidence) -> str:
    """What a refusal tells the reader: that there is nothing to search, when that is why."""
    return EMPTY_INDEX_NOTICE if evidence.corpus_is_empty else evidence.notice


def says_not_in_documents(sentence: str) -> bool:
    """True when a sentence of a language model is its way of saying the passages do not answer."""
    lowered = sentence.lower().replace("’", "'")
    return any(pattern in lowered for pattern in NOT_IN_DOCUMENTS_PATTERNS)


def claims_nothing(sentence: str) -> bool:
    """Refusals and questions (often the question echoed back) claim nothing: never supported."""
    return says_not_in_documents(sentence) or sentence.rstrip().endswith("?")


def generated_refusal_notice(finished: Sequence[str]) -> str:
    """Why a generated answer with no supported sentence is refused: the model said so, or nothing held."""
    refused = not finished or any(says_not_in_documents(sentence) for sentence in finished)
    return REFUSED_NOTICE if refused else UNSUPPORTED_NOTICE


class _Mentions:
    """Whether a document mentions every one of some identifiers (case aside), once per document."""

    def __init__(self, names: Sequence[str], load_document: Callable[[str], Document]) -> None:
        self.names = [name.casefold() for name in names]
        self.load_document = load_document
        self.known: dict[str, bool] = {}

    def all_in(self, document_id: str) -> bool:
        if not self.names:
            return True
        if document_id not in self.known:
            document = self.load_document(document_id)
            text = f"{document.title}\n{document.text}".casefold()
            # "F-16s" is mentioned by a text that says "F-16".
            self.known[document_id] = all(
                name in text or (name.endswith("s") and name[:-1] in text) for name in self.names
            )
        return self.known[document_id]


class _Rules:
    """The calibrated refusal rule of each sentence: its model, its document's language, and whether
    the question is written in another language than that document."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        # Detected only for a model with rules across languages: no language guess costs MiniLM a thing.
        across = calibrated_across(evidence.embedder.name)
        self.question_language = detect_language(evidence.question).language if across else UNDETERMINED
        self.known: dict[str, RefusalRule] = {}

    def __call__(self, item: ScoredSentence) -> RefusalRule:
        language = self.evidence.document(item.quote.document_id).language
        if language not in self.known:
            self.known[language] = refusal_rule(
                self.evidence.settings, self.evidence.embedder.name, language, self._across(language)
            )
        return self.known[language]

    def across(self, item: ScoredSentence) -> bool:
        """Whether the question is in another language than the sentence's document."""
        return self._across(self.evidence.document(item.quote.document_id).language)

    def _across(self, language: str) -> bool:
        return UNDETERMINED not in (language, self.question_language) and language != self.question_language
