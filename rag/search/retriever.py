"""The Retriever protocol: what the answer step needs from any search backend."""

from __future__ import annotations

from typing import Protocol

from rag.types import Passage


class Retriever(Protocol):
    """Finds the k passages most related to a query; mode is hybrid, dense or lexical."""

    def search(self, query: str, k: int, mode: str = "hybrid") -> list[Passage]:
        """The k best passages, best first, ranked from 1."""
        ...
