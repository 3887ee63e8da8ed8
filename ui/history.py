"""Each logged-in person's conversations, kept by the server: listed, reopened and deleted by them.

Kept in the server's memory, by person: a restart forgets them (nothing a person asked is written
to disk here; the audit trail keeps its own record). A conversation holds the answers as they
were given: reopened after the person lost a group, it still shows what they were shown then.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ui.responses import Turn

# Conversations kept per person; the least recently updated go first.
PER_PERSON = 50
TITLE_CHARS = 60


@dataclass(frozen=True)
class Conversation:
    """One conversation: its id, a title (its first question), its turns, when it last changed."""

    id: str
    title: str
    turns: tuple[Turn, ...]
    updated: float

    @property
    def label(self) -> str:
        """How the list shows it: the time of its last answer and its first question."""
        return f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(self.updated))} · {self.title}"


class Histories:
    """Conversations by person, newest first; one person never sees another's."""

    def __init__(self) -> None:
        self._by_person: dict[str, dict[str, Conversation]] = {}
        self._lock = threading.Lock()

    def save(self, person: str, conversation_id: str, turns: Sequence[Turn]) -> str:
        """Keep the turns under the conversation id (a new id when empty); returns the id."""
        final = tuple(turn for turn in turns if turn.is_final)
        conversation_id = conversation_id or secrets.token_urlsafe(12)
        if not final:
            return conversation_id
        title = " ".join(final[0].question.split())[:TITLE_CHARS]
        with self._lock:
            kept = self._by_person.setdefault(person, {})
            kept.pop(conversation_id, None)
            kept[conversation_id] = Conversation(conversation_id, title, final, time.time())
            while len(kept) > PER_PERSON:
                del kept[next(iter(kept))]
        return conversation_id

    def listed(self, person: str) -> list[Conversation]:
        """The person's conversations, the most recent first."""
        with self._lock:
            return list(reversed(self._by_person.get(person, {}).values()))

    def get(self, person: str, conversation_id: str) -> Conversation | None:
        """One of the person's conversations (None for an id that is not theirs)."""
        with self._lock:
            return self._by_person.get(person, {}).get(conversation_id)

    def delete(self, person: str, conversation_id: str | None = None) -> int:
        """Delete one of the person's conversations, or all of them (None); returns how many went."""
        with self._lock:
            kept = self._by_person.get(person, {})
            if conversation_id is None:
                return len(self._by_person.pop(person, {}))
            return 1 if kept.pop(conversation_id, None) is not None else 0

    def choices(self, person: str) -> list[tuple[str, str]]:
        """(label, id) pairs for the page's list."""
        return [(conversation.label, conversation.id) for conversation in self.listed(person)]
