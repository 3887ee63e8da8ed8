"""What one reader may see of one index: the documents they may read, and those documents' chunks.

A scope is found once per index generation and reader (rag/access/scoping.py) and handed to the
store and the vector index, which apply it where candidates are found: FAISS through an id
selector over `chunk_ids`, SQLite through a WHERE over `document_keys`. Results are never
filtered afterwards, so ranks, counts and refusals are those of an index without the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, runtime_checkable

import numpy as np

from rag.storage.audit import AuditAction, AuditEvent
from rag.storage.vectors.ann import AllowedIds


@dataclass(frozen=True)
class Scope:
    """The readable documents of one index (their row keys) and their chunk ids, sorted."""

    document_keys: frozenset[int]
    chunk_ids: np.ndarray = field(compare=False, repr=False)
    languages: tuple[str, ...] = ()  # of the readable documents: a question is analysed in these

    def keys_json(self) -> str:
        """The document keys as a JSON array, bound to a query's `json_each(?)`."""
        return self._keys_json

    @cached_property
    def _keys_json(self) -> str:
        return json.dumps(sorted(self.document_keys))

    @cached_property
    def allowed_ids(self) -> AllowedIds:
        """The chunk ids as FAISS's id selector wants them, made once per scope."""
        return AllowedIds(self.chunk_ids)

    def holds_chunk(self, chunk_id: int) -> bool:
        """Whether a chunk belongs to a readable document."""
        position = int(np.searchsorted(self.chunk_ids, chunk_id))
        return position < len(self.chunk_ids) and int(self.chunk_ids[position]) == chunk_id


class ScopeSource(Protocol):
    """What a reader's scope is found from: both engines offer it."""

    def generation(self) -> int:
        """Bumped by every committed change, grants included: scopes are cached per generation."""
        ...

    def has_grants(self) -> bool:
        """Whether any document's readers were narrowed through the API."""
        ...

    def document_rows(self) -> list[tuple[int, str, frozenset[str] | None]]:
        """(key, source, groups granted or None) of every document."""
        ...

    def scope_of(self, document_keys: frozenset[int]) -> Scope:
        """The scope holding these documents, with their chunk ids and languages."""
        ...


@runtime_checkable
class ScopedStore(Protocol):
    """What a storage engine offers readers' scopes, grants and the audit trail.

    Both engines implement it: `Store` (SQLite) and `PostgresStore` (format 2; the scope as
    `WHERE document_key = ANY(%s)` and pgvector's filtered search). Besides these, every read a
    question makes takes `scope=`: `lexical_search`, `languages`, `counts`, `term_document_counts`,
    `documents`, `document`; and the vector index's `search`.
    """

    def generation(self) -> int:
        """Bumped by every committed change, grants included: scopes are cached per generation."""
        ...

    def has_grants(self) -> bool:
        """Whether any document's readers were narrowed through the API."""
        ...

    def document_rows(self) -> list[tuple[int, str, frozenset[str] | None]]:
        """(key, source, groups granted or None) of every document."""
        ...

    def scope_of(self, document_keys: frozenset[int]) -> Scope:
        """The scope holding these documents, with their chunk ids and languages."""
        ...

    def set_grant(self, source: str, read: frozenset[str] | None, set_by: str) -> None:
        """Narrow who may read a stored document (None lifts it)."""
        ...

    def set_grants(self, sources: Sequence[str], read: frozenset[str], set_by: str) -> None:
        """Narrow who may read each of these sources (stored or not yet), in one transaction."""
        ...

    def grants(self) -> dict[str, frozenset[str]]:
        """Every grant by source, stored documents or not."""
        ...

    def grant_of(self, source: str) -> frozenset[str] | None:
        """The groups a document's grant names, or None."""
        ...

    def record(self, actor: str, action: AuditAction, detail: dict[str, object]) -> None:
        """Append one event to the audit trail."""
        ...

    def audit_events(self, since: str | None = None, actor: str | None = None) -> list[AuditEvent]:
        """The audit trail, oldest first."""
        ...

    def prune_audit(self, days: float, actor: str) -> tuple[str, int]:
        """Remove audit events older than `days` days: (the cutoff time, how many went)."""
        ...
