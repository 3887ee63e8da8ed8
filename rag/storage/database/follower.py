"""A reader's own FAISS index over a PostgreSQL index's chunk vectors, following its change journal.

pgvector's HNSW missed recall@10 at a million chunks (0.71-0.75 at ef_search 100) where FAISS's
IVF lists of 8-bit codes, fed from the same rows, kept 0.96 at a tenth of the time (docs/scale.md).
So a reader of an index of format 3 searches its own FAISS index (RAG_POSTGRES_VECTORS=faiss, the
default; hnsw keeps pgvector's). At its first search it takes the copy this machine saved, or builds
one from every vector, read in one repeatable-read snapshot with the journal's last number, by
vectors/build.py's rules (exact up to approximate_above, IVF tuned on query-like probes above).
Before each search it reads the journal rows past its position in one statement (one snapshot) and
replaces the vectors of the chunks they name with what chunks holds now: a chunk gone is removed,
a new or changed one added. A document whose removal committed before a search began is never
found by it. Journal numbers follow commit order (schema.FORMAT_3), so reading `seq > position`
never skips a change committed later. When the journal no longer reaches back to the position
(pruned past it: database/journal.py), was numbered anew below it, or holds a TRUNCATE's reset, it
builds afresh instead. Saved copies are evicted when unused for long or past a size cap
(database/vector_cache.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import StorageError
from rag.settings import default_cache_dir
from rag.storage.database import journal, vector_cache
from rag.storage.database.schema import JOURNAL_FORMAT
from rag.storage.scope import Scope
from rag.storage.vectors import ann
from rag.storage.vectors.build import BuildInfo, build, due_step, whole_rows
from rag.storage.vectors.recall import PROBE_COUNT, probe_texts
from rag.storage.vectors.saved import read_base, write_base
from rag.types import BuildProgress

if TYPE_CHECKING:
    from rag.storage.postgres import PostgresStore

Embed = Callable[[Sequence[str]], np.ndarray]
BATCH = 10_000
CACHE_FOLDER = "postgres-vectors"  # under the user cache folder (RAG_CACHE_DIR): one folder an index
_MAY_READ = "SELECT has_table_privilege('vector_journal', 'SELECT')::int"
# What names an index's cache: its database and schema, and the journal table's object id, which a
# schema dropped and made again, or restored from a dump, does not keep.
_IDENTITY = "SELECT current_database(), current_schema(), 'vector_journal'::regclass::oid::bigint"


class DatabaseVectors:
    """FAISS in this process over a PostgreSQL index's chunk vectors, caught up before each search."""

    def __init__(
        self,
        store: PostgresStore,
        dimension: int,
        approximate_above: int,
        embed: Embed | None = None,
        cache_limits: vector_cache.Limits = vector_cache.DEFAULT_LIMITS,
    ) -> None:
        self.store = store
        self.cache_limits = cache_limits  # what this machine's saved copies may keep
        self.dimension = dimension
        self.approximate_above = approximate_above
        self._embed = embed  # makes the query-like probes an IVF index is tuned on
        self._index: ann.Index | None = None
        self.from_saved_copy = False  # whether the index in use started from this machine's saved copy
        self._build: BuildInfo | None = None
        self.position = 0  # the last journal number applied
        self._churn = 0  # vectors added or removed since the build
        self._rebuilding: threading.Thread | None = None
        self._lock = threading.Lock()  # FAISS must not search an index being added to

    @property
    def kind(self) -> str:
        """'exact' or 'ivf-sq8' once built (before: 'exact', the kind of a search over nothing)."""
        return self._build.kind if self._build is not None else ann.EXACT

    @property
    def exact_scores(self) -> bool:
        """Only the exact index scores on the vectors themselves; IVF scores on 8-bit codes."""
        return self.kind == ann.EXACT

    def describe(self) -> dict[str, Any]:
        """What the index is: kind, size, lists probed, measured recall, journal position."""
        if self._index is None or self._build is None:
            return {"kind": "not built"}
        build_info = self._build
        return {
            "kind": build_info.kind,
            "vectors": int(self._index.ntotal),
            "lists": build_info.lists,
            "probes": ann.probes_of(self._index),
            "recall@10": 1.0 if build_info.kind == ann.EXACT else build_info.recall,
            "journal_position": self.position,
            "built_at": build_info.built_at,
            "from_saved_copy": self.from_saved_copy,
        }

    def search(
        self, query_vectors: np.ndarray, k: int, scope: Scope | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row_ids) of the k nearest chunks of each query (of the scope); -1 ids pad."""
        with self._lock:
            index = self._fresh()
            if index.ntotal == 0 or (scope is not None and not len(scope.chunk_ids)):
                empty = np.full((len(query_vectors), k), -1, dtype=np.int64)
                return np.zeros(empty.shape, dtype=np.float32), empty
            return ann.search(index, query_vectors, k, None if scope is None else scope.allowed_ids)

    def sync(self, progress: BuildProgress | None = None) -> None:
        """Build the index now (or catch it up): a server does this before its first question."""
        with self._lock:
            self._fresh(progress)

    def _fresh(self, progress: BuildProgress | None = None) -> ann.Index:
        if self._index is None:
            self.store.with_connection(lambda connection: self._start(connection, progress))
            self.store.with_connection(self._catch_up)
        else:
            self.store.with_connection(self._catch_up)
            self._rebuild_when_due()
        assert self._index is not None
        return self._index

    def _take(self, built: tuple[ann.Index, BuildInfo, int], from_saved_copy: bool = False) -> None:
        self._index, self._build, self.position = built
        self._churn = 0
        self.from_saved_copy = from_saved_copy

    def _start(self, connection: Any, progress: BuildProgress | None) -> None:
        """Take the index this machine saved for this database when it still follows it, else build
        one from every vector and save it: a restart catches up instead of reading everything."""
        folder = self._cache_folder(connection)
        with vector_cache.building(folder):  # N servers started at once on a machine build once
            with vector_cache.in_use(folder):
                saved = read_base(folder)
                loaded = saved is not None and self._load(connection, *saved)
            if loaded:
                # As a save does: a machine that only loads copies keeps its cache in bounds too.
                vector_cache.evict(folder.parent, folder, self.cache_limits)
                return
            built = self._built(connection, progress)
            self._save(connection, built)
            self._take(built)

    def _cache_folder(self, connection: Any) -> Path:
        database, schema, table = connection.execute(_IDENTITY).fetchone()
        # The server and database as the URL names them, without its query: the schema is named
        # by the server, and copies saved before shown URLs kept their query stay found.
        server = self.store.location.partition("?")[0]
        identity = f"{server}|{database}|{schema}|{table}|{self.dimension}"
        return default_cache_dir() / CACHE_FOLDER / hashlib.sha256(identity.encode()).hexdigest()[:24]

    def _load(self, connection: Any, meta: dict[str, Any], data: bytes) -> bool:
        """Take a saved index when it was saved from this journal (its position is still in it, naming
        the same chunk: a journal started again, a restored backup, reuses numbers but not both) and
        is of the kind this size wants."""
        try:
            position, chunk, build_info = (
                int(meta["position"]),
                meta["position_chunk"],
                BuildInfo.from_dict(meta["build"]),
            )
            index = ann.from_bytes(data)
        except (KeyError, TypeError, ValueError):
            return False
        if (
            position < journal.pruned_upto(connection)
            or index.d != self.dimension
            or index.ntotal != meta.get("count")
            or chunk != _chunk_at(connection, position)
            or due_step(build_info, True, int(index.ntotal), 0, 0, self.approximate_above) == "rebuild"
        ):
            return False
        self._take((index, build_info, position), from_saved_copy=True)
        return True

    def _save(self, connection: Any, built: tuple[ann.Index, BuildInfo, int]) -> None:
        """Save a built index with its position, best effort: a reader that cannot write its cache
        folder builds again at its next start."""
        index, build_info, position = built
        meta = {
            "position": position,
            "position_chunk": _chunk_at(connection, position),
            "count": int(index.ntotal),
            "build": build_info.to_dict(),
        }
        folder = self._cache_folder(connection)
        with vector_cache.in_use(folder):
            try:
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                write_base(folder, ann.to_bytes(index), meta, mode=0o600)
            except (OSError, StorageError):
                pass
        vector_cache.evict(folder.parent, folder, self.cache_limits)  # the cache grows here: old copies go

    def _rebuild_when_due(self) -> None:
        """Build afresh beside the index in use, as a folder's writer would (another kind for the size
        now, or lists trained on too few of the vectors): searches go on meanwhile, and the new index
        catches up from its own position at the first search after it is taken."""
        count = int(self._index.ntotal) if self._index is not None else 0
        if (
            self._rebuilding is not None
            or due_step(self._build, True, count, self._churn, 0, self.approximate_above) != "rebuild"
        ):
            return

        def rebuild() -> None:
            try:

                def built_and_saved(connection: Any) -> tuple[ann.Index, BuildInfo, int]:
                    built = self._built(connection, None)
                    self._save(connection, built)  # before it is shared: nothing adds to it meanwhile
                    return built

                built = self.store.with_connection(built_and_saved)
                with self._lock:
                    self._take(built)
            finally:
                self.store.close()  # this thread's connection
                self._rebuilding = None

        self._rebuilding = threading.Thread(target=rebuild, name="follower-rebuild", daemon=True)
        self._rebuilding.start()

    def _built(self, connection: Any, progress: BuildProgress | None) -> tuple[ann.Index, BuildInfo, int]:
        """Build from every vector, in one snapshot with the journal's last number."""
        with connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            position = _one(connection, "SELECT coalesce(max(seq), 0) FROM vector_journal")
            count = _one(connection, "SELECT count(*) FROM chunks")
            index, build_info = build(
                self.dimension,
                count,
                self.approximate_above,
                lambda: read_vectors(connection, self.dimension),
                lambda size: _vectors_of(connection, _sample_ids(connection, size), self.dimension),
                lambda: self._probes(_texts_of(connection, _sample_ids(connection, PROBE_COUNT, seed=1))),
                progress,
            )
        return index, build_info, position

    def _catch_up(self, connection: Any) -> None:
        """Apply the journal rows past the position: remove every chunk they name, add back those
        that still have a vector. When the journal no longer reaches back to the position (pruned
        past it) or says chunks were truncated, build afresh from every vector instead."""
        found = connection.execute(journal.CHANGES, (self.dimension, self.position)).fetchall()
        if self._index is None:
            return
        upto, last = found[0][0], found[0][1]
        # Pruned past the position, numbered anew below it (a journal emptied by hand, a restored
        # backup), or chunks truncated: catching up could miss a change.
        if upto > self.position or last < self.position or any(row[2] == journal.RESET for row in found):
            built = self._built(connection, None)
            self._save(connection, built)
            self._take(built)
            return
        rows = [row[2:] for row in found if row[2] is not None]
        if not rows:
            return
        touched = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        ann.remove(self._index, touched)
        held, added = [row[0] for row in rows if row[2]], 0
        # Read after the journal, the vectors are as new or newer than the rows name; a change
        # made in between has a later row, which the next catch-up applies again.
        for ids, vectors in read_vectors(connection, self.dimension, held) if held else ():
            ann.add(self._index, *whole_rows(ids, vectors))
            added += len(ids)
        self.position = max(self.position, max(int(row[1]) for row in rows))
        self._churn += len(touched) + added

    def _probes(self, texts: Sequence[str]) -> np.ndarray | None:
        snippets = probe_texts(texts)
        return self._embed(snippets) if self._embed is not None and snippets else None


def has_journal(store: PostgresStore) -> bool:
    """Whether the index keeps the change journal a follower needs (format 3 on) and this role may
    read it (a role granted SELECT on the tables before an upgrade made the journal may not)."""
    if store.format_version() < JOURNAL_FORMAT:
        return False
    return bool(store.with_connection(lambda connection: _one(connection, _MAY_READ)))


def _chunk_at(connection: Any, position: int) -> int | None:
    """The chunk the journal row of this number names (None for 0, or a number it does not hold)."""
    row = connection.execute("SELECT chunk_id FROM vector_journal WHERE seq = %s", (position,)).fetchone()
    return int(row[0]) if row else None


def _one(connection: Any, statement: str) -> int:
    row = connection.execute(statement).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def read_vectors(
    connection: Any, dimension: int, ids: Sequence[int] | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(chunk ids, vectors) batches of every chunk (or of these ids), read in the caller's snapshot
    by one binary COPY: every row is the same number of bytes, so a block of rows is read as one
    numpy record array instead of rows of floats parsed from text (137 s for 1M vectors that way)."""
    which = "" if ids is None else " AND id = ANY(%s)"
    statement = f"COPY (SELECT id, vector FROM chunks WHERE vector_dims(vector) = %s{which}) TO STDOUT (FORMAT BINARY)"
    parameters = (int(dimension),) if ids is None else (int(dimension), list(ids))
    with connection.cursor() as cursor, cursor.copy(statement, parameters) as copy:
        for rows in _copied_rows(copy, _binary_rows(dimension)):
            yield _batch(rows, dimension)


# A binary COPY: a signature, flags and the length of a header extension, then per row its field
# count, each field's length and bytes (big-endian), and -1 as a field count at the end.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER_BYTES = 19
_COPY_TRAILER = b"\xff\xff"


def _copied_rows(blocks: Iterable[Any], rows: np.dtype) -> Iterator[np.ndarray]:
    """The rows of a binary COPY of fixed-size rows, BATCH at a time, as record arrays."""
    buffer = bytearray()
    header = True
    for block in blocks:
        buffer += block
        if header:
            if len(buffer) < _COPY_HEADER_BYTES:
                continue
            if bytes(buffer[:11]) != _COPY_SIGNATURE:
                raise StorageError("the vectors read from the database are not a binary COPY")
            skip = _COPY_HEADER_BYTES + int.from_bytes(buffer[15:19], "big")
            if len(buffer) < skip:
                continue
            del buffer[:skip]
            header = False
        whole = len(buffer) // rows.itemsize
        if whole >= BATCH:
            yield np.frombuffer(bytes(buffer[: whole * rows.itemsize]), dtype=rows)
            del buffer[: whole * rows.itemsize]
    if header or bytes(buffer[-2:]) != _COPY_TRAILER or (len(buffer) - 2) % rows.itemsize:
        raise StorageError("the vectors read from the database ended before their last row")
    if len(buffer) > 2:
        yield np.frombuffer(bytes(buffer[:-2]), dtype=rows)


def _binary_rows(dimension: int) -> np.dtype:
    """One row of (id bigint, vector) in a binary COPY: pgvector sends a vector as its dimension,
    an unused word and the float4 numbers."""
    return np.dtype(
        [
            ("fields", ">i2"),
            ("id_length", ">i4"),
            ("id", ">i8"),
            ("vector_length", ">i4"),
            ("dimension", ">i2"),
            ("unused", ">i2"),
            ("vector", ">f4", (dimension,)),
        ]
    )


def _batch(rows: np.ndarray, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of a block of binary COPY rows, after checking each is the row expected."""
    if (
        (rows["fields"] != 2).any()
        or (rows["id_length"] != 8).any()
        or (rows["vector_length"] != 4 + 4 * dimension).any()
        or (rows["dimension"] != dimension).any()
    ):
        raise StorageError("the vectors read from the database are not the (id, vector) rows expected")
    return rows["id"].astype(np.int64), np.ascontiguousarray(rows["vector"], dtype=np.float32)


def _sample_ids(connection: Any, count: int, seed: int = 0) -> list[int]:
    """Up to `count` chunk ids drawn at random (all of them when there are fewer)."""
    ids = np.fromiter((row[0] for row in connection.execute("SELECT id FROM chunks")), dtype=np.int64)
    if len(ids) > count:
        ids = np.sort(np.random.default_rng(seed).choice(ids, count, replace=False))
    return [int(found) for found in ids]


def _vectors_of(connection: Any, ids: Sequence[int], dimension: int) -> np.ndarray:
    """The vectors of these chunks (a training sample), read as read_vectors reads every one."""
    batches = [vectors for _, vectors in read_vectors(connection, dimension, ids)]
    return np.concatenate(batches) if batches else np.zeros((0, dimension), dtype=np.float32)


def _texts_of(connection: Any, ids: Sequence[int]) -> list[str]:
    rows = connection.execute(
        "SELECT coalesce(search_text, text) FROM chunks WHERE id = ANY(%s) ORDER BY id", (list(ids),)
    )
    return [str(row[0]) for row in rows]
