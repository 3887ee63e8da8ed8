"""A reader's scope in one index: the documents they may read, found once per index generation."""

from __future__ import annotations

import threading

from rag.access.identity import Actor
from rag.access.policy import CollectionRule
from rag.storage.scope import Scope, ScopeSource

# Distinct (generation, groups) scopes kept per index: a few groups of people ask at once.
CACHED_SCOPES = 64


class ScopeCache:
    """Scopes of one index by (generation, rule, groups); shared by every reader of the index."""

    def __init__(self) -> None:
        self._scopes: dict[tuple[int, CollectionRule, frozenset[str]], Scope] = {}
        self._lock = threading.Lock()

    def scope(self, store: ScopeSource, actor: Actor, rule: CollectionRule) -> Scope | None:
        """What the caller may read of the index; None when nothing narrows it (every document)."""
        if actor.is_unrestricted or (not rule.documents and not store.has_grants()):
            return None
        key = (store.generation(), rule, actor.groups)
        with self._lock:
            found = self._scopes.get(key)
        if found is not None:
            return found
        readable = frozenset(
            document_key
            for document_key, source, granted in store.document_rows()
            if rule.may_read_document(actor, source, granted)
        )
        found = store.scope_of(readable)
        with self._lock:
            if len(self._scopes) >= CACHED_SCOPES:
                self._scopes.clear()
            self._scopes[key] = found
        return found
