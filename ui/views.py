"""What one visitor of the page may see and change, resolved from each event's request.

Without people logging in, every visitor sees the whole index (or every served collection). With
an OpenID Connect login (`rag serve --ui --oidc-client-id ...`), a visitor is the person their
session names: the page lists, searches, answers from, shows and changes only what their groups
may (`Collections.select(names, actor)` and `Collections.reader(name, actor)`), and what they
do goes to the audit trail under their name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import gradio as gr

import rag
from rag.access import Actor, CollectionRule, DocumentRule
from ui.history import Histories

# The person a request's session names (None: not logged in).
PersonOf = Callable[[Any], Actor | None]


class NotLoggedIn(gr.Error):
    """An event from a page whose login has ended, or of a person who may read nothing: shown on the page."""


@dataclass(frozen=True)
class AuditListing:
    """What the Audit tab shows: (collection, event) pairs, and each collection whose trail
    could not be read with the one-line reason."""

    events: list[tuple[str, Any]]
    unreadable: dict[str, str]


@dataclass(frozen=True)
class View:
    """The index or collections as one visitor may see them."""

    base: rag.KnowledgeBase  # the one index, or the visitor's first readable collection
    names: Sequence[str]  # the collections they may read ([] for the one index)
    writable: frozenset[str]
    collections: rag.Collections | None = None
    actor: Actor | None = None
    is_admin: bool = False  # sees the audit trail of every collection

    def audit_events(self, person: str = "", limit: int = 200) -> AuditListing:
        """The latest audit events of every collection, newest first, and why some could not be
        read (a PostgreSQL index of format 1 has no trail yet): for admins only."""
        if not self.is_admin or self.collections is None:
            return AuditListing([], {})
        found: list[tuple[str, Any]] = []
        unreadable: dict[str, str] = {}
        for name in self.collections.names:
            try:
                events = self.collections.base(name).engine_store().audit_events(actor=person.strip() or None)
            except rag.RagError as error:
                unreadable[name] = str(error)
                continue
            found.extend((name, event) for event in events)
        return AuditListing(sorted(found, key=lambda pair: pair[1].at, reverse=True)[:limit], unreadable)

    @property
    def is_empty_handed(self) -> bool:
        """Whether collections are served but the visitor may read none of them."""
        return self.collections is not None and not self.names

    def corpus(self, picked: Sequence[str] | None = None) -> rag.Corpus:
        """What a question is asked over: the picked collections the visitor may read (all, when none)."""
        if self.collections is None:
            return self.base
        if self.is_empty_handed:
            raise NotLoggedIn("you may read no collection: ask an administrator to add one of your groups")
        chosen = [name for name in picked or () if name in self.names] or list(self.names)
        return self.collections.select(chosen, self.actor)

    def reader(self, name: str | None) -> rag.KnowledgeBase:
        """One collection as the visitor may see it (the first they may read for an unknown name)."""
        if self.collections is None or not self.names:
            return self.base
        return self.collections.reader(name if name in self.names else self.names[0], self.actor)

    def answered_in(self, answer: rag.Answer) -> rag.KnowledgeBase:
        """The collection whose index keeps an answer's feedback and log row (the first it quotes,
        the first the visitor may read for a refusal), as the visitor sees it."""
        quoted = [citation.collection for citation in answer.citations if citation.collection in self.names]
        return self.reader(quoted[0] if quoted else None)

    def writer(self, name: str | None) -> rag.KnowledgeBase | None:
        """The collection to add documents to, when the visitor may change it; else None."""
        if self.collections is None:
            return self.base
        if name not in self.writable:
            return None
        return self.collections.base(name)

    def may_write(self, name: str | None) -> bool:
        """Whether the visitor may add to and remove from the collection."""
        return self.collections is None or name in self.writable

    def record_question(self, question: str, answer: rag.Answer, picked: Sequence[str] | None) -> None:
        """Write a logged-in person's question and what its answer quoted to the audit trail."""
        if self.actor is not None and self.collections is not None:
            asked = [name for name in picked or () if name in self.names] or list(self.names)
            self.collections.trail.asked(self.actor, asked, question, answer)

    def record_change(self, action: Literal["added", "removed"], name: str, detail: dict[str, Any]) -> None:
        """Write a logged-in person's upload or removal to the audit trail."""
        if self.actor is not None and self.collections is not None:
            self.collections.trail.changed(self.actor, name, action, detail)


class Views:
    """Makes each event's View: the whole thing, or the logged-in person's share of it."""

    def __init__(
        self,
        base: rag.KnowledgeBase,
        collections: rag.Collections | None,
        person_of: PersonOf | None = None,
        admin_groups: frozenset[str] = frozenset(),
    ) -> None:
        self.base = base
        self.collections = collections
        self.person_of = person_of
        self.admin_groups = admin_groups
        # Each person's conversations (only when people log in: an anonymous page has no "person").
        self.histories = Histories() if person_of is not None else None

    @property
    def is_per_person(self) -> bool:
        """Whether each visitor logs in and sees only their groups' documents."""
        return self.person_of is not None

    def of(self, request: Any) -> View:
        """The view of whoever sent this event (NotLoggedIn when their login has ended)."""
        served = self.collections
        if self.person_of is None or served is None:
            names = served.names if served is not None else []
            return View(self.base, names, frozenset(names), served)
        actor = self.person_of(request)
        if actor is None:
            raise NotLoggedIn("your login has ended: reload the page to log in again")
        policy = served.policy
        readable = policy.readable(actor, served.names) if policy is not None else frozenset()
        writable = policy.writable(actor, served.names) if policy is not None else frozenset()
        names = [name for name in served.names if name in readable]
        first = served.reader(names[0], actor) if names else self.base.for_reader(actor, _NOTHING)
        return View(first, names, frozenset(writable), served, actor, actor.in_any(self.admin_groups))


# A view of no document at all, for a person who may read no collection.
_NOTHING = CollectionRule(documents=(DocumentRule("*", frozenset()),))
