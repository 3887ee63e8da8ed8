"""What the server writes to each collection's audit trail: questions, quotes, changes, refusals.

Each collection's events go to its own index (rag/storage/audit.py), so a trail travels with the
documents it is about. Questions can be kept out of it (`--audit-no-questions`, for privacy):
the event then says that a question was asked and what was quoted, not what was asked.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from rag.access.identity import Actor
from rag.errors import RagError
from rag.knowledge_base import KnowledgeBase
from rag.storage.audit import AuditAction
from rag.types import Answer, Passage

# Refusals need no credentials to cause: at most this many are written a minute per caller (all
# callers without valid credentials are one, "anonymous"), and the next one written says how many
# were left out, so a flood of bad requests cannot fill the disk.
REFUSALS_PER_MINUTE = 60
# With a retention (--audit-keep-days), each collection's old events are removed at most this often.
PRUNE_EVERY_SECONDS = 3600.0


class AuditTrail:
    """Appends events to the audit trail of the collections they concern."""

    def __init__(self, bases: dict[str, KnowledgeBase], record_questions: bool = True) -> None:
        self._bases = bases
        self.record_questions = record_questions
        # Days events are kept (None: for ever); older ones are removed as new ones are written.
        self.keep_days: float | None = None
        self._pruned_at: dict[str, float] = {}
        self._refusal_lock = threading.Lock()
        self._refusal_times: dict[str, list[float]] = {}
        self._refusals_left_out: dict[str, int] = {}

    def asked(self, actor: Actor, names: Sequence[str], question: str, answer: Answer) -> None:
        """A question and the documents its answer quoted, in each collection asked."""
        for name in names:
            quoted = [
                {"document_id": c.quote.document_id, "source": c.source, "start": c.start, "end": c.end}
                for c in answer.citations
                if c.collection in (name, None)
            ]
            detail = {"answered": answer.answered, "quoted": quoted} | self._question(question)
            self._append([name], actor, "asked", detail)

    def searched(self, actor: Actor, names: Sequence[str], query: str, passages: Sequence[Passage]) -> None:
        """A search and the documents it showed passages of."""
        for name in names:
            shown = sorted({p.source for p in passages if p.collection in (name, None)})
            self._append([name], actor, "searched", {"shown": shown} | self._question(query))

    def changed(self, actor: Actor, name: str, action: AuditAction, detail: dict[str, Any]) -> None:
        """A document added, removed or narrowed."""
        self._append([name], actor, action, detail)

    def logged_in(self, actor: Actor, names: Sequence[str]) -> None:
        """A person logged in to the chat UI (in the trail of each collection they may read)."""
        self._append(names, actor, "logged_in", {"groups": sorted(actor.groups)})

    def logged_out(self, actor: Actor, names: Sequence[str]) -> None:
        """A person logged out of the chat UI."""
        self._append(names, actor, "logged_out", {})

    def refused(self, actor_name: str, reason: str, path: str, names: Iterable[str] | None = None) -> None:
        """A refused request (bad credentials, a collection not granted, a write not allowed)."""
        with self._refusal_lock:
            now = time.monotonic()
            recent = [at for at in self._refusal_times.get(actor_name, []) if now - at < 60]
            if len(recent) >= REFUSALS_PER_MINUTE:
                self._refusals_left_out[actor_name] = self._refusals_left_out.get(actor_name, 0) + 1
                return
            self._refusal_times[actor_name] = [*recent, now]
            left_out = self._refusals_left_out.pop(actor_name, 0)
        detail: dict[str, Any] = {"reason": reason, "path": path}
        if left_out:
            detail["refusals_left_out_before"] = left_out
        targets = list(names) if names is not None else list(self._bases)
        self._append(targets, Actor(actor_name), "refused", detail)

    def _question(self, text: str) -> dict[str, str]:
        return {"question": text} if self.record_questions else {}

    def _append(
        self, names: Iterable[str], actor: Actor, action: AuditAction, detail: dict[str, Any]
    ) -> None:
        for name in names:
            base = self._bases.get(name)
            if base is None or not base.exists:
                continue
            try:
                base.engine_store().record(actor.name, action, detail)
                self._keep_within_retention(name, base)
            except RagError as error:  # a read-only index cannot keep a trail: say so, answer anyway
                print(f"audit: cannot record in {name} ({error})", file=sys.stderr, flush=True)

    def _keep_within_retention(self, name: str, base: KnowledgeBase) -> None:
        if self.keep_days is None:
            return
        now = time.monotonic()
        with self._refusal_lock:
            if now - self._pruned_at.get(name, -PRUNE_EVERY_SECONDS) < PRUNE_EVERY_SECONDS:
                return
            self._pruned_at[name] = now
        base.engine_store().prune_audit(self.keep_days, "retention")
