"""Who is asking: a person (from an OpenID Connect token), a service (an API key) or the local user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ActorKind = Literal["local", "key", "person"]


@dataclass(frozen=True)
class Actor:
    """One caller: a name for the audit trail, the groups permissions are granted to, and its kind.

    The local user (a server without keys or tokens, bound to loopback; the CLI) is unrestricted:
    it is the owner of the folders it opens.
    """

    name: str
    groups: frozenset[str] = frozenset()
    kind: ActorKind = "local"

    @property
    def is_unrestricted(self) -> bool:
        """Whether no rule narrows what this caller sees (the local owner)."""
        return self.kind == "local"

    def in_any(self, groups: frozenset[str]) -> bool:
        """Whether the caller is in at least one of these groups."""
        return not self.groups.isdisjoint(groups)


LOCAL_USER = Actor("local")
