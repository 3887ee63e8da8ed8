"""Several served collections in the chat UI (`rag serve --ui`): the picked ones answer together."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import rag


class Selection:
    """The collections picked in the chat, with the two things the chat asks of a knowledge base."""

    def __init__(self, collections: rag.Collections, names: Sequence[str]) -> None:
        self.collections = collections
        self.names = [name for name in names if name in collections.names] or collections.names

    def ask_stream(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        k: int | None = None,
        mode: str | None = None,
        query: str | None = None,
        answer_mode: str | None = None,
    ) -> Iterator[rag.Answer]:
        """Growing answers from the picked collections; each citation names its collection."""
        return self.collections.ask_stream(
            self.names, question, history=history, k=k, mode=mode, query=query, answer_mode=answer_mode
        )

    def document(self, document_id: str) -> rag.Document:
        """A stored document from any picked collection."""
        return self.collections.document(self.names, document_id)


def may_do_everything(access: Any, names: Sequence[str]) -> bool:
    """Whether a key's access covers reading and changing every served collection (the UI shows all)."""
    return access is not None and set(names) <= access.writable
