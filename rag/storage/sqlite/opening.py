"""The SQLite database of an index folder: made whole in one step, opened (read-only where the
folder is), upgraded in place, one connection per thread, its transactions and its manifest."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Self

from rag.errors import IndexMismatchError, IndexNotFoundError, StorageError
from rag.storage.records import refuse_other_settings
from rag.storage.schema import FORMAT_VERSION, OWN_TABLES, create_or_upgrade
from rag.storage.sqlite_errors import DATABASE_NAME, storage_error, translated


class Database:
    """One index folder's database and this thread's connection to it: what every part of the
    store (rag/storage/store.py) reads and writes through."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / DATABASE_NAME
        self._local = threading.local()
        if not self.exists_in(folder):
            raise IndexNotFoundError(
                f"no index at {folder}: create one with `rag ingest FILES --index {folder}`"
            )
        self.read_only = not (os.access(self.path, os.W_OK) and os.access(folder, os.W_OK))
        self._check_is_index()
        if not self.read_only:
            self._upgrade()

    @staticmethod
    def exists_in(folder: Path) -> bool:
        """Whether the folder holds a database (an empty file is what a crash at creation leaves)."""
        path = folder / DATABASE_NAME
        return path.is_file() and path.stat().st_size > 0

    @staticmethod
    def holds_other_files(folder: Path) -> bool:
        """Whether the folder holds files but no index: what another process creating the index
        there writes first (its database being made) is not a reason to call the folder taken, and
        neither is an index it finished between the caller's look and this one (the database is
        put in place before anything else of an index is written, so it is looked for last)."""
        making = f".{DATABASE_NAME}."
        others = any(not entry.name.startswith(making) for entry in folder.iterdir())
        return others and not Database.exists_in(folder)

    @classmethod
    def create(cls, folder: Path) -> Self:
        """Open the index in `folder`, creating the folder and an empty database when missing."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not cls.exists_in(folder):
                _create_database(folder)
        except sqlite3.Error as error:
            raise storage_error(error, folder) from error
        except OSError as error:
            raise StorageError(
                f"cannot create an index in {folder} ({error.strerror}); choose another folder"
            ) from error
        return cls(folder)

    @translated
    def _check_is_index(self) -> None:
        tables = {row[0] for row in self._connect().execute("SELECT name FROM sqlite_master")}
        if not tables >= OWN_TABLES:
            self.close()
            raise IndexMismatchError(
                f"{self.path} is not a Verbatim index (another program's database?);"
                " choose another --index folder"
            )

    @translated
    def _upgrade(self) -> None:
        """Bring an index of an older format up to date (nothing to do for a current one)."""
        create_or_upgrade(self._connect(), self.folder)

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open_read_only() if self.read_only else self._open_read_write()
            self._local.connection = connection
        return connection

    def _open_read_write(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def _open_read_only(self) -> sqlite3.Connection:
        uri = self.path.absolute().as_uri()
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # WAL readers need a -shm file they can write; on a read-only folder without one,
            # read the file as it is (no writer can be running there).
            connection.close()
            connection = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
        return connection

    def close(self) -> None:
        """Close this thread's connection."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole or rolled back whole."""
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            # After some errors (a full disk) SQLite has already rolled back: a second
            # ROLLBACK would replace the real error with "no transaction is active".
            if connection.in_transaction:
                with suppress(sqlite3.Error):  # the original error says more
                    connection.execute("ROLLBACK")
            raise

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction on this thread's connection: every read inside sees one committed state."""
        connection = self._connect()
        try:
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                if connection.in_transaction:
                    connection.execute("COMMIT")
        except sqlite3.Error as error:
            raise storage_error(error, self.folder) from error

    @staticmethod
    def _bump_generation(connection: sqlite3.Connection) -> None:
        connection.execute("UPDATE manifest SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    @translated
    def manifest(self) -> dict[str, str]:
        """All manifest entries."""
        rows = self._connect().execute("SELECT key, value FROM manifest").fetchall()
        return dict(rows)

    @translated
    def check_or_write_manifest(self, expected: dict[str, str]) -> None:
        """Record the manifest of a new index, or fail if an existing one differs."""
        current = self.manifest()
        if not current.get("format_version"):
            with self._transaction() as connection:
                for key, value in {"format_version": str(FORMAT_VERSION), **expected}.items():
                    connection.execute("INSERT OR REPLACE INTO manifest VALUES (?, ?)", (key, value))
                connection.execute("INSERT OR IGNORE INTO manifest VALUES ('generation', '0')")
            return
        if (
            self.read_only
            and current["format_version"].isdigit()
            and int(current["format_version"]) < FORMAT_VERSION
        ):
            raise IndexMismatchError(
                f"index {self.path.parent} has format version {current['format_version']} and is read-only here:"
                f" open it once with write access to upgrade it to {FORMAT_VERSION} in place (nothing is embedded again)"
            )
        if current["format_version"] != str(FORMAT_VERSION):
            raise IndexMismatchError(
                f"index {self.path.parent} has format version {current['format_version']}, "
                f"this version of Verbatim reads {FORMAT_VERSION}: rebuild it in a new folder"
            )
        refuse_other_settings(
            current, expected, f"index {self.path.parent}", "ingest into a new index folder"
        )

    @translated
    def generation(self) -> int:
        """Counter bumped by every committed change; the FAISS file is tagged with it."""
        row = self._connect().execute("SELECT value FROM manifest WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0


def _create_database(folder: Path) -> None:
    """Make the folder's database whole, then put it in place in one step: a process that opens the
    folder meanwhile (several `rag serve` processes on an empty folder) finds either no database or
    all of it, never a half-made one. The first to put one in place wins; the others' are dropped."""
    path = folder / DATABASE_NAME
    made = folder / f".{DATABASE_NAME}.{os.getpid()}.{threading.get_ident()}.new"
    made.unlink(missing_ok=True)
    connection = sqlite3.connect(made, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        create_or_upgrade(connection, folder)
    finally:
        connection.close()  # the last connection folds its write-ahead log into the file
    try:
        if path.is_file() and path.stat().st_size == 0:  # what a crash at creation left before
            os.replace(made, path)
            return
        try:
            os.link(made, path)  # fails when another process put its database in place first
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(made, path)
    finally:
        made.unlink(missing_ok=True)
