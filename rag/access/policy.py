"""Which groups may read and change each collection, narrowed per document: the `--access` TOML file.

    [collections.handbook]
    read = ["staff"]
    write = ["editors"]
    [[collections.handbook.documents]]
    match = "*payroll*"        # a glob on the document's source
    read = ["hr"]

Writers may read. A document rule only narrows: a reader must be allowed the collection and be in
one of the `read` groups of every rule whose glob matches the document's source, and of the
document's grant when a writer set one through the API.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from rag.access.identity import Actor
from rag.errors import SettingsError


@dataclass(frozen=True)
class DocumentRule:
    """Documents whose source matches a glob are readable by these groups only."""

    match: str
    read: frozenset[str]

    def applies_to(self, source: str) -> bool:
        """Whether the document's source matches the rule's glob."""
        return fnmatchcase(source, self.match)


@dataclass(frozen=True)
class CollectionRule:
    """Who may read and who may change one collection, and the rules that narrow its documents."""

    read: frozenset[str] = frozenset()
    write: frozenset[str] = frozenset()
    documents: tuple[DocumentRule, ...] = ()

    def may_read(self, actor: Actor) -> bool:
        """Whether the caller may read the collection at all (writers may)."""
        return actor.is_unrestricted or actor.in_any(self.read | self.write)

    def may_write(self, actor: Actor) -> bool:
        """Whether the caller may add, change and remove the collection's documents."""
        return actor.is_unrestricted or actor.in_any(self.write)

    def may_read_document(self, actor: Actor, source: str, granted: frozenset[str] | None) -> bool:
        """Whether the caller may read one document (the collection's access is checked apart)."""
        if actor.is_unrestricted:
            return True
        if granted is not None and not actor.in_any(granted):
            return False
        return all(actor.in_any(rule.read) for rule in self.documents if rule.applies_to(source))


# The rule of a collection served without an access file: every document to whoever may use it.
OPEN = CollectionRule()


@dataclass(frozen=True)
class AccessPolicy:
    """The rules of every collection named in the access file."""

    collections: Mapping[str, CollectionRule] = field(default_factory=dict)

    def rule(self, name: str) -> CollectionRule:
        """The rule of one collection; a collection the file does not name is readable by no group."""
        return self.collections.get(name, CollectionRule())

    def readable(self, actor: Actor, names: Iterable[str]) -> frozenset[str]:
        """The collections among names that the caller may read."""
        return frozenset(name for name in names if self.rule(name).may_read(actor))

    def writable(self, actor: Actor, names: Iterable[str]) -> frozenset[str]:
        """The collections among names that the caller may change."""
        return frozenset(name for name in names if self.rule(name).may_write(actor))


def load_policy(path: Path, served: Iterable[str]) -> AccessPolicy:
    """Read an access file; every collection it names must be served."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"cannot read the access file {path} ({error.strerror})") from error
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"the access file {path} is not valid TOML ({error})") from error
    collections = raw.get("collections")
    if set(raw) - {"collections"} or not isinstance(collections, dict):
        raise SettingsError(f"the access file {path} must hold [collections.NAME] tables only")
    unknown = sorted(set(collections) - set(served))
    if unknown:
        raise SettingsError(f"the access file {path} names {', '.join(unknown)}, which is not served")
    return AccessPolicy(
        {name: _rule(value, f"{path} [collections.{name}]") for name, value in collections.items()}
    )


def _rule(value: object, where: str) -> CollectionRule:
    if not isinstance(value, dict) or set(value) - {"read", "write", "documents"}:
        raise SettingsError(f"{where}: give read = [...], write = [...] and [[...documents]] rules")
    documents = value.get("documents", [])
    if not isinstance(documents, list):
        raise SettingsError(f"{where}: documents must be a list of [[...documents]] tables")
    return CollectionRule(
        _groups(value.get("read", []), where),
        _groups(value.get("write", []), where),
        tuple(_document_rule(rule, where) for rule in documents),
    )


def _document_rule(value: object, where: str) -> DocumentRule:
    if not isinstance(value, dict) or set(value) != {"match", "read"} or not isinstance(value["match"], str):
        raise SettingsError(f'{where}: a document rule is match = "GLOB", read = ["group", ...]')
    return DocumentRule(value["match"], _groups(value["read"], where))


def _groups(value: object, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(group, str) and group for group in value):
        raise SettingsError(f"{where}: groups must be a list of names")
    return frozenset(value)
