"""Errors a user can cause; the CLI prints their message without a traceback."""

from __future__ import annotations


class RagError(Exception):
    """Base class for errors whose message tells the user what to do."""


class IndexMismatchError(RagError):
    """The index was built with another embedding model, chunker or format."""


class IndexLockedError(RagError):
    """Another process is writing to the index."""


class DocumentError(RagError):
    """A file could not be read as a document (empty, binary, corrupt, too large...)."""


class ModelLoadError(RagError):
    """The embedding model could not be loaded."""


class NotFoundError(RagError):
    """A named document or file does not exist."""


class SettingsError(RagError, ValueError):
    """A setting has a value Verbatim cannot use (from code, flags or RAG_* variables)."""


class IndexNotFoundError(NotFoundError):
    """A read command named a folder that holds no index (only ingest creates one)."""


class IndexDamagedError(RagError):
    """A file of the index is damaged; `rag check` says what, `rag check --repair` fixes derived data."""


class StorageError(RagError):
    """The disk refused: full, read-only, or an I/O error."""


class StoragePermissionError(StorageError):
    """The database refused the role this work: a role that may only read, asked to write."""


class AuthenticationError(RagError):
    """A bearer token that is not valid here: forged, expired, for another audience or issuer."""
