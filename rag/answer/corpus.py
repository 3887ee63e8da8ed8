"""The Corpus: what a question is asked over, whatever holds it (one index, several, another store).

`answer_stream(question, corpus)` needs nothing else. `KnowledgeBase` is one corpus (an index
folder); `rag serve`'s `Collections.select(names)` is another (several indexes fused into one
ranking). A second storage engine is one more implementation of this protocol.
"""

from __future__ import annotations

from typing import Protocol

from rag.answer.lexical import TermStatistics
from rag.embedding import Embedder
from rag.settings import RetrievalMode, Settings
from rag.types import Document, Passage


class Corpus(Protocol):
    """Documents a question can be asked over: search, read, embed the question, count terms."""

    @property
    def settings(self) -> Settings:
        """How questions over this corpus are searched and answered."""
        ...

    def question_embedder(self) -> Embedder:
        """A fresh embedder for one question: its search and its answer share the question's vector."""
        ...

    def search(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        embedder: Embedder | None = None,
    ) -> list[Passage]:
        """The k passages most related to the query, best first, flagged when they speak to an AI."""
        ...

    def document(self, document_id: str) -> Document:
        """A stored document by id (or source); NotFoundError when there is none."""
        ...

    def is_empty(self) -> bool:
        """Whether there is no document at all (a refusal then says so)."""
        ...

    def term_statistics(self) -> TermStatistics:
        """How rare each full-text term is, for weighing a question's words."""
        ...
