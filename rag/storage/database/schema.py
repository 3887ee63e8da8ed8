"""The PostgreSQL schema of an index, its format version, and the upgrade of an older format in place.

Only a writer creates or upgrades (`rag ingest` into an empty database, any write through
`rag.open`, `rag check --repair`, `rag copy` into it); a reader never does. A reader of an index of
an older format reads everything that format had, and gets a one-line error naming `rag check
--repair` for what only a newer format keeps. An index of a newer format than this code is refused.
"""

from __future__ import annotations

from typing import Any

from rag.errors import IndexMismatchError

# 1: documents, chunks, postings, totals, locations, sentence vectors, structure spans, manifest;
# feedback and the question log (made at the first feedback in an index made before them).
# 2: document_grants (who may read a document), audit_events (the append-only trail) and
# page_boxes (where a page's characters sit), each empty in an upgraded index.
# 3: vector_journal, the change journal a reader's FAISS index follows (database/follower.py).
# 4: the journal is pruned (written_at, and the floor in the manifest: database/journal.py), a
# TRUNCATE of chunks journals a reset, and the journal lock is one per schema, not per database.
FORMAT_VERSION = 4
SCHEMA_LOCK = 7_316_032_022  # advisory lock held while a schema is created or upgraded (any number, fixed)
# Format 3's advisory lock a writer took at its commit, just before its journal rows were numbered:
# one for the whole database. Format 4 takes (JOURNAL_LOCK_CLASS, hash of the schema's name).
JOURNAL_LOCK = 7_316_032_023
JOURNAL_LOCK_CLASS = 731_603_202
JOURNAL_FORMAT = 3  # the format that keeps vector_journal
PRUNED_FORMAT = 4  # the format whose journal is pruned, and journals a TRUNCATE

TABLES = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS manifest (key text PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE IF NOT EXISTS generation;
CREATE TABLE IF NOT EXISTS documents (
    key bigserial PRIMARY KEY,
    id text NOT NULL,
    source text NOT NULL UNIQUE,
    title text NOT NULL,
    text text NOT NULL,
    metadata jsonb NOT NULL,
    page_starts jsonb NOT NULL,
    content_hash text NOT NULL,
    size_bytes bigint NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    language text NOT NULL DEFAULT 'und',
    script text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS documents_id ON documents (id);
CREATE INDEX IF NOT EXISTS documents_language ON documents (language);
CREATE TABLE IF NOT EXISTS chunks (
    id bigserial PRIMARY KEY,
    document_key bigint NOT NULL REFERENCES documents (key) ON DELETE CASCADE,
    start integer NOT NULL,
    "end" integer NOT NULL,
    text text NOT NULL,
    search_text text,
    terms text NOT NULL,
    length integer NOT NULL,
    vector vector({dimension}) NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks (document_key);
CREATE TABLE IF NOT EXISTS chunk_terms (
    term text NOT NULL,
    chunk_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
    frequency integer NOT NULL,
    length integer NOT NULL,
    PRIMARY KEY (term, chunk_id) INCLUDE (frequency, length)
);
CREATE TABLE IF NOT EXISTS document_terms (
    document_key bigint PRIMARY KEY REFERENCES documents (key) ON DELETE CASCADE,
    chunks integer NOT NULL,
    terms bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS chunk_terms_chunk ON chunk_terms (chunk_id);
CREATE TABLE IF NOT EXISTS locations (
    document_key bigint NOT NULL REFERENCES documents (key) ON DELETE CASCADE,
    start integer NOT NULL,
    label text NOT NULL,
    PRIMARY KEY (document_key, start)
);
CREATE TABLE IF NOT EXISTS sentence_vectors (
    document_key bigint NOT NULL REFERENCES documents (key) ON DELETE CASCADE,
    text_hash bigint NOT NULL,
    vector bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS sentence_vectors_hash ON sentence_vectors (text_hash);
CREATE INDEX IF NOT EXISTS sentence_vectors_document ON sentence_vectors (document_key);
CREATE TABLE IF NOT EXISTS structure_spans (
    document_key bigint NOT NULL REFERENCES documents (key) ON DELETE CASCADE,
    kind text NOT NULL,
    start integer NOT NULL,
    "end" integer NOT NULL
);
CREATE INDEX IF NOT EXISTS structure_spans_document ON structure_spans (document_key);
"""
# Feedback and the question log: the SQLite folder's tables (storage/feedback_table.py,
# storage/question_log.py) with the same columns, JSON kept as text. Made with the others; an
# index made before them gets them at its first feedback or logged question.
LOG_TABLES = """
CREATE TABLE IF NOT EXISTS feedback (
    seq bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    created_at text NOT NULL,
    answer_id text NOT NULL,
    who text NOT NULL,
    channel text NOT NULL,
    rating text,
    question text NOT NULL,
    query text NOT NULL,
    answer text NOT NULL,
    answered integer NOT NULL,
    citations text NOT NULL,
    comment text NOT NULL,
    corrected_answer text NOT NULL,
    better_source text,
    settings text NOT NULL,
    code_version text NOT NULL,
    collections text NOT NULL,
    history text NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created_at);
CREATE TABLE IF NOT EXISTS question_log (
    seq bigserial PRIMARY KEY,
    asked_at text NOT NULL,
    collection text NOT NULL,
    question text NOT NULL,
    answered integer NOT NULL,
    mode text NOT NULL,
    latency_ms double precision NOT NULL,
    cited text NOT NULL,
    answer_id text NOT NULL,
    who text NOT NULL,
    channel text NOT NULL
);
CREATE INDEX IF NOT EXISTS question_log_asked ON question_log (asked_at);
CREATE INDEX IF NOT EXISTS question_log_who ON question_log (who);
"""
OWN_TABLES = ("manifest", "documents", "chunks", "chunk_terms", "document_terms")

# Format 2's tables. The audit trail is append-only as in a folder (storage/audit.py): a trigger
# refuses to change a row, and to delete one unless a retention pass's own transaction holds a
# permit whose cutoff is after it. The function keeps the schema it was made in, so the tables it
# reads are this index's whatever the caller's search_path.
FORMAT_2 = """
CREATE TABLE IF NOT EXISTS document_grants (
    source text PRIMARY KEY,
    read jsonb NOT NULL,
    set_by text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS audit_events (
    seq bigserial PRIMARY KEY,
    at text NOT NULL DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    actor text NOT NULL,
    action text NOT NULL,
    detail text NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor, seq);
CREATE TABLE IF NOT EXISTS audit_prune_permit (cutoff text NOT NULL);
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_prune_permit WHERE OLD.at < cutoff) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only (rag audit --prune-older-than DAYS removes old events)';
END
$$;
CREATE OR REPLACE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TABLE IF NOT EXISTS page_boxes (
    document_key bigint NOT NULL REFERENCES documents (key) ON DELETE CASCADE,
    page integer NOT NULL,
    source text NOT NULL,
    runs bytea NOT NULL,
    PRIMARY KEY (document_key, page)
);
"""
# Format 3's change journal: a row for every chunk inserted, deleted or given a new vector. The
# rows are made by a deferred trigger, so they are numbered at the commit of the transaction that
# made the change, under JOURNAL_LOCK: the lock is held from the first of them until the commit is
# visible, so journal numbers are taken in commit order, and a reader that has seen number n has
# seen every committed row below n (its `seq > last` never skips a row committed later). Only the
# tail of each commit is serialised, not the writes before it: writers of different documents still
# write at once. A chunk's latest state is read from chunks itself, so `added` is informative.
FORMAT_3 = """
CREATE TABLE IF NOT EXISTS vector_journal (
    seq bigserial PRIMARY KEY,
    chunk_id bigint NOT NULL,
    added boolean NOT NULL
);
CREATE OR REPLACE FUNCTION vector_journal_append() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7316032023);
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vector_journal (chunk_id, added) VALUES (OLD.id, false);
    ELSE
        INSERT INTO vector_journal (chunk_id, added) VALUES (NEW.id, true);
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS vector_journal_append ON chunks;
CREATE CONSTRAINT TRIGGER vector_journal_append AFTER INSERT OR DELETE OR UPDATE OF vector ON chunks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION vector_journal_append();
"""
# Format 4. The journal is pruned (database/journal.py), by a time each row was written at: a
# clock read at the commit, under the lock, so it grows with the numbers (rows a format 3 index had
# are given the upgrade's time). The lock is one per schema (the hash of the name of the schema
# chunks is in): writers of two indexes in one database no longer take turns, while those of one
# schema still number in commit order (a collision of two names' hashes only makes them take turns).
# Each also takes format 3's lock, shared: a format 3 trigger still running when the upgrade commits
# (it waited for that lock, which the upgrade holds) numbers alone, not beside format 4's. A
# TRUNCATE of chunks (or of documents, CASCADE) runs no row trigger: a statement trigger journals a
# reset (chunk 0, an id no chunk has) under the same lock, so a follower builds afresh from what is
# left.
FORMAT_4 = """
ALTER TABLE vector_journal ADD COLUMN IF NOT EXISTS written_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE vector_journal ALTER COLUMN written_at SET DEFAULT clock_timestamp();
CREATE OR REPLACE FUNCTION vector_journal_append() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7316032023);
    PERFORM pg_advisory_xact_lock(731603202, hashtext(TG_TABLE_SCHEMA));
    IF TG_OP = 'DELETE' THEN
        INSERT INTO vector_journal (chunk_id, added) VALUES (OLD.id, false);
    ELSE
        INSERT INTO vector_journal (chunk_id, added) VALUES (NEW.id, true);
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION vector_journal_reset() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7316032023);
    PERFORM pg_advisory_xact_lock(731603202, hashtext(TG_TABLE_SCHEMA));
    INSERT INTO vector_journal (chunk_id, added) VALUES (0, false);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER vector_journal_reset AFTER TRUNCATE ON chunks
FOR EACH STATEMENT EXECUTE FUNCTION vector_journal_reset();
"""
assert str(JOURNAL_LOCK) in FORMAT_3
assert FORMAT_4.count(f"({JOURNAL_LOCK_CLASS},") == FORMAT_4.count(f"({JOURNAL_LOCK})") == 2
# The statements that bring an index of the version before each up to it, in order.
STEPS = {2: FORMAT_2, 3: FORMAT_3, 4: FORMAT_4}


def format_in(connection: Any) -> int:
    """The index's format version from its manifest (0 when no manifest entry says it yet)."""
    row = connection.execute("SELECT value FROM manifest WHERE key = 'format_version'").fetchone()
    return parse_format(row[0] if row else "")


def parse_format(value: str) -> int:
    """A manifest's format_version as a number (0 when empty)."""
    if not value:
        return 0
    if not value.isdigit():
        raise IndexMismatchError(f"the manifest's format_version {value!r} is not a number: run `rag check`")
    return int(value)


def upgrade(connection: Any, found: int) -> None:
    """Bring an index of format `found` up to FORMAT_VERSION, in the caller's transaction (which
    holds SCHEMA_LOCK): each step's tables, then the manifest's version, committed together."""
    if JOURNAL_FORMAT <= found < PRUNED_FORMAT:
        # Format 3's writers number under one lock for the database: those already in their
        # commit's tail finish before the trigger moves to the schema's own lock.
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (JOURNAL_LOCK,))
    for version in range(max(found, 1) + 1, FORMAT_VERSION + 1):
        connection.execute(STEPS[version])
    if found:
        connection.execute(
            "UPDATE manifest SET value = %s WHERE key = 'format_version'", (str(FORMAT_VERSION),)
        )


def refuse_newer(location: str, found: int) -> None:
    """A one-line error for an index written by a newer Verbatim than this one."""
    if found > FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index in {location} has PostgreSQL format version {found}, this version of Verbatim"
            f" reads up to {FORMAT_VERSION}: use a newer Verbatim"
        )


def needs_upgrade(location: str, what: str, found: int, needed: int) -> IndexMismatchError:
    """The one-line error of a reader asking an older index for what only format `needed` keeps."""
    return IndexMismatchError(
        f"{what} needs PostgreSQL format version {needed} and the index in {location} has"
        f" {found}: upgrade it in place with `rag check --repair --index {location}` (a role that may"
        " create tables; nothing is embedded again)"
    )
