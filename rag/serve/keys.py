"""API keys: which collections each key may read and change; looked up in constant time.

A key is a service identity: besides its collections it may name the groups it belongs to, which
an access file (`--access`) grants collections and documents to, and a name for the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.access.identity import LOCAL_USER, Actor
from rag.errors import SettingsError

EVERY_COLLECTION = "*"
MIN_KEY_CHARS = 16


@dataclass(frozen=True)
class Access:
    """The collections one caller may read, and those it may also change; `holder` names the caller."""

    readable: frozenset[str]
    writable: frozenset[str] = frozenset()
    # Whose share of the server this is ("key #N", by position in the keys file; "" without keys).
    holder: str = field(default="", compare=False)
    # Who is asking: what narrows the documents they see, and whom the audit trail names.
    actor: Actor = field(default=LOCAL_USER, compare=False)

    @classmethod
    def everything(cls, names: Iterable[str]) -> Access:
        """Full access to the named collections (a server without keys, bound to loopback)."""
        every = frozenset(names)
        return cls(every, every)

    def widened(self, readable: Iterable[str], writable: Iterable[str]) -> Access:
        """This access plus the collections an access file grants the caller's groups."""
        more_writable = self.writable | frozenset(writable)
        return replace(
            self, readable=self.readable | frozenset(readable) | more_writable, writable=more_writable
        )


class KeyRing:
    """Keys mapped to their Access; keys are held only as SHA-256 digests and never logged."""

    def __init__(self, grants: Mapping[str, Access]) -> None:
        self._grants = [
            (_digest(key), replace(access, holder=f"key #{number}", actor=_named(access.actor, number)))
            for number, (key, access) in enumerate(grants.items(), start=1)
        ]

    def __len__(self) -> int:
        return len(self._grants)

    def access_for(self, key: str) -> Access | None:
        """The Access of a presented key, or None; every stored key is compared, in constant time."""
        presented = _digest(key)
        found: Access | None = None
        for digest, access in self._grants:
            if hmac.compare_digest(presented, digest):
                found = access
        return found


def _named(actor: Actor, number: int) -> Actor:
    """The key's service identity: its given name, else "key #N" (never the key itself)."""
    return replace(actor, name=actor.name or f"key #{number}", kind="key")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def load_keys(path: Path, collections: Iterable[str]) -> KeyRing:
    """Read a keys file: {"KEY": ["name", ...]} or {"KEY": {"read": [...], "write": [...]}}; the
    second form may add "groups": [...] and "name": "..." (a service identity)."""
    served = frozenset(collections)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"cannot read the keys file {path} ({error.strerror})") from error
    except ValueError as error:
        raise SettingsError(f"the keys file {path} is not valid JSON ({error})") from error
    if not isinstance(raw, dict) or not raw:
        raise SettingsError(f'the keys file {path} must be a JSON object {{"KEY": ["collection", ...]}}')
    grants = {}
    for number, (key, value) in enumerate(raw.items(), start=1):
        # Keys are named by position, never by value, so a message cannot leak one.
        where = f"{path}, key #{number}"
        if not isinstance(key, str) or len(key.strip()) < MIN_KEY_CHARS or key != key.strip():
            raise SettingsError(f"{where}: keys must be at least {MIN_KEY_CHARS} characters, without spaces")
        grants[key] = _access(value, served, where)
    return KeyRing(grants)


def _access(value: object, served: frozenset[str], where: str) -> Access:
    if isinstance(value, list):
        readable = _names(value, served, where)
        return Access(readable, actor=Actor("", kind="key"))
    if isinstance(value, dict) and set(value) <= {"read", "write", "groups", "name"}:
        writable = _names(value.get("write", []), served, where)
        readable = _names(value.get("read", []), served, where) | writable
        groups = value.get("groups", [])
        name = value.get("name", "")
        if not isinstance(groups, list) or not all(isinstance(group, str) and group for group in groups):
            raise SettingsError(f"{where}: groups must be a list of names")
        if not isinstance(name, str):
            raise SettingsError(f"{where}: name must be a string")
        return Access(readable, writable, actor=Actor(name.strip(), frozenset(groups), "key"))
    raise SettingsError(
        f'{where}: give a list of collections or {{"read": [...], "write": [...], "groups": [...], "name": "..."}}'
    )


def _names(value: object, served: frozenset[str], where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise SettingsError(f"{where}: collections must be a list of names")
    if EVERY_COLLECTION in value:
        return served
    unknown = sorted(set(value) - served)
    if unknown:
        raise SettingsError(
            f"{where} names {', '.join(unknown)}, which is not served; served: {', '.join(sorted(served))}"
        )
    return frozenset(value)
