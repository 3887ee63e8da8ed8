"""rag/answer/corpus.py: answer_stream needs only a Corpus; any store that implements it is answered."""

from __future__ import annotations

import dataclasses

import rag
from rag.answer.lexical import NO_STATISTICS, TermStatistics
from rag.settings import RetrievalMode

TEXT = (
    "Mount Etna is an active volcano on the east coast of Sicily, above the city of Catania. "
    "The lighthouse keeper of Pemba island grew cloves in a garden behind the tower."
)


class InMemory:
    """A corpus of one document held in memory: its whole text is the only passage."""

    def __init__(self, text: str, settings: rag.Settings | None = None) -> None:
        self.held = rag.Document("doc-1", "notes.txt", "Notes", text, language="en")
        self.settings = settings or rag.Settings()
        self.embedder = rag.HashingEmbedder(256)
        self.searches: list[tuple[str, int | None, str | None]] = []

    def question_embedder(self) -> rag.Embedder:
        return self.embedder

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        embedder: rag.Embedder | None = None,
    ) -> list[rag.Passage]:
        self.searches.append((query, k, mode))
        text = self.held.text
        return [
            rag.Passage(
                1, 0, self.held.id, self.held.source, "Notes", None, 0, len(text), text, 1.0, 1.0, 1.0
            )
        ]

    def document(self, document_id: str) -> rag.Document:
        if document_id != self.held.id:
            raise rag.NotFoundError(f"no document {document_id!r}")
        return self.held

    def is_empty(self) -> bool:
        return False

    def term_statistics(self) -> TermStatistics:
        return NO_STATISTICS


def test_any_corpus_is_answered_with_verified_quotes() -> None:
    corpus = InMemory(TEXT)
    answer = rag.answer_stream("Which volcano is on the east coast of Sicily?", corpus)
    *_, final = answer
    assert final.answered and final.citations
    for citation in final.citations:
        assert TEXT[citation.start : citation.end] == citation.quote.text
    assert "Mount Etna" in final.citations[0].quote.text


def test_the_corpus_is_searched_once_with_the_prepared_options() -> None:
    corpus = InMemory(TEXT, rag.Settings(top_k=3, retrieval_mode="dense"))
    *_, final = rag.answer_stream("  Who grew cloves?  ", corpus, rag.AskOptions(retrieval_mode="lexical"))
    assert corpus.searches == [("Who grew cloves?", 3, "lexical")]
    assert final.question == "Who grew cloves?"


def test_collections_select_is_a_corpus_like_a_knowledge_base(fake_base: rag.KnowledgeBase) -> None:
    fake_base.add_texts([rag.TextItem("notes.txt", TEXT)])
    collections = rag.Collections({"notes": fake_base})
    selection = collections.select(["notes"])
    by_selection = rag.answer_stream("Who grew cloves on Pemba island?", selection)
    *_, served = by_selection
    alone = fake_base.ask("Who grew cloves on Pemba island?")
    assert served.text == alone.text and served.answered
    assert all(citation.collection == "notes" for citation in served.citations)
    assert selection.document(served.citations[0].quote.document_id).source.endswith("notes.txt")


class RemovedAfterSearch(InMemory):
    """A corpus whose search also finds a document another process removed just after."""

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        embedder: rag.Embedder | None = None,
    ) -> list[rag.Passage]:
        held = super().search(query, k, mode, embedder)[0]
        removed = rag.Passage(
            1, 7, "doc-gone", "gone.txt", "Gone", None, 0, 40, "Mount Etna erupted in the " * 2, 1.0, 1.0, 1.0
        )
        return [removed, dataclasses.replace(held, rank=2)]


def test_a_document_removed_between_search_and_answer_is_left_out_not_an_error() -> None:
    *_, final = rag.answer_stream("Which volcano is on the east coast of Sicily?", RemovedAfterSearch(TEXT))
    assert final.answered and [passage.document_id for passage in final.passages] == ["doc-1"]
    assert all(citation.quote.document_id == "doc-1" for citation in final.citations)
