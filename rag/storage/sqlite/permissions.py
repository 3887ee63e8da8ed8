"""Who may read which document of an index folder: grants (rag/storage/grants.py) and the scope a
reader's grants make (rag/storage/scope.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from rag.storage import grants
from rag.storage.exported import ExportedGrant
from rag.storage.scope import Scope
from rag.storage.sqlite.opening import Database
from rag.storage.sqlite.searching import IN_SCOPE
from rag.storage.sqlite_errors import translated


class Permissions(Database):
    """Grants set, copied and read, and the scope of a set of readable documents."""

    @translated
    def document_rows(self) -> list[tuple[int, str, frozenset[str] | None]]:
        """(key, source, groups granted or None) of every document: what a reader's scope is found from."""
        return list(grants.document_rows(self._connect()))

    @translated
    def scope_of(self, document_keys: frozenset[int]) -> Scope:
        """The scope holding these documents, with their chunk ids."""
        keys = json.dumps(sorted(document_keys))
        rows = self._connect().execute(
            f"SELECT id FROM chunks WHERE document_key IN {IN_SCOPE} ORDER BY id", (keys,)
        )
        chunk_ids = np.fromiter((row[0] for row in rows), dtype=np.int64)
        # From the language index, which holds each row's key: the rows themselves hold the texts.
        languages = self._connect().execute(
            "SELECT DISTINCT language FROM documents INDEXED BY documents_language"
            f" WHERE key IN {IN_SCOPE} ORDER BY language",
            (keys,),
        )
        return Scope(document_keys, chunk_ids, tuple(row[0] for row in languages))

    @translated
    def set_grant(self, source: str, read: frozenset[str] | None, set_by: str) -> None:
        """Narrow who may read a stored document (None: lift the narrowing)."""
        with self._transaction() as connection:
            grants.add_grants_table(connection)
            grants.set_grant(connection, source, read, set_by)
            self._bump_generation(connection)

    @translated
    def set_grants(self, sources: Sequence[str], read: frozenset[str], set_by: str) -> None:
        """Narrow who may read each of these sources, in one transaction."""
        with self._transaction() as connection:
            grants.add_grants_table(connection)
            for source in sources:
                grants.set_grant(connection, source, read, set_by)
            self._bump_generation(connection)

    @translated
    def export_grants(self) -> list[ExportedGrant]:
        """Every grant with who set it and when, by source (`rag copy`)."""
        return grants.exported_grants(self._connect())

    @translated
    def import_grants(self, copied: Sequence[ExportedGrant]) -> None:
        """Write grants read out of another index as they were set, in one transaction."""
        with self._transaction() as connection:
            grants.add_grants_table(connection)
            grants.import_grants(connection, copied)
            self._bump_generation(connection)

    @translated
    def grants(self) -> dict[str, frozenset[str]]:
        """Every grant by source, stored documents or not."""
        return grants.all_grants(self._connect())

    @translated
    def has_grants(self) -> bool:
        """Whether any document's readers were narrowed through the API."""
        connection = self._connect()
        if not grants.has_grants_table(connection):
            return False
        return connection.execute("SELECT 1 FROM document_grants LIMIT 1").fetchone() is not None

    @translated
    def grant_of(self, source: str) -> frozenset[str] | None:
        """The groups a document's grant names, or None."""
        return grants.grant_of(self._connect(), source)
