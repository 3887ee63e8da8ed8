"""What a user is told when PostgreSQL refuses: one line naming the database (never its password),
with the grants a role lacks or the command that mends the index.

rag/storage/postgres.py, the one module that imports psycopg, catches its errors and says which
of them are a denied privilege; the words are here.
"""

from __future__ import annotations

from rag.errors import StorageError, StoragePermissionError
from rag.storage.database.schema import FORMAT_VERSION

# What a role lacking a privilege is told: which grants a reader needs, and that writing needs more.
PRIVILEGE_ADVICE = (
    "a role that only reads (ask, search, stats, check, serve) needs"
    " GRANT USAGE ON SCHEMA s, GRANT SELECT ON ALL TABLES IN SCHEMA s and"
    " GRANT SELECT ON ALL SEQUENCES IN SCHEMA s; ingest, remove, repair and feedback need a role that may write"
)


def first_line(error: BaseException) -> str:
    """The first line of an error's message (PostgreSQL's go on with detail and hints), or its class."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def storage_error(location: str, error: BaseException, denied: bool) -> StorageError:
    """A one-line StorageError naming the database, with grants advice when a privilege was `denied`."""
    message = f"PostgreSQL at {location}: {first_line(error)}"
    if denied:
        return StoragePermissionError(f"{message} ({PRIVILEGE_ADVICE})")
    return StorageError(message)


def cannot_connect(location: str, error: BaseException) -> StorageError:
    """The error of a connection that could not be opened."""
    return StorageError(
        f"cannot connect to PostgreSQL at {location} ({first_line(error)});"
        " is the server running, and the URL right?"
    )


def no_vector_type(location: str) -> StorageError:
    """The error of a writer whose search_path does not reach pgvector's `vector` type."""
    return StorageError(
        f"PostgreSQL at {location}: pgvector's vector type is not on the search_path"
        " (add the schema it was created in, such as public, to the URL's search_path)"
    )


def upgrade_denied(location: str, error: BaseException, found: int) -> StoragePermissionError:
    """The error of a role that may not create the tables an upgrade from format `found` adds."""
    return StoragePermissionError(
        f"PostgreSQL at {location}: {first_line(error)} (upgrading the index from format"
        f" {found} to {FORMAT_VERSION} creates tables: run `rag check --repair --index {location}`"
        " once with a role that may create them in its schema, such as its owner)"
    )


def log_tables_elsewhere(location: str) -> StorageError:
    """The error of an index whose feedback tables would be made in another schema than its own."""
    return StorageError(
        f"the index in {location} is not in the first schema of its search_path:"
        " its feedback tables would be made elsewhere"
    )
