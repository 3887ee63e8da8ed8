"""Pruning a PostgreSQL index's change journal (vector_journal), and what a follower reads of it.

A folder's journal (storage/vectors/journal.py) is pruned up to the mark of the base saved before
the last one: the one folder's readers always find a base that catches up. A PostgreSQL index's
followers are on other machines, each with its own saved copy and position, which the database
never learns (a reader may be a role that may only read). So its journal keeps the rows written in
the last KEEP_DAYS days, and always its last row: a follower that searched within that time, or a
copy saved within it, catches up; an older one builds afresh from every vector, as at its first
start. What is kept is bounded by the chunks written in that time (~60 bytes each), not by all time.

The highest number pruned is kept in the manifest (PRUNED_KEY), in the transaction that deletes the
rows: a follower whose position is below it reads that with the rows past its position, in one
statement, and builds afresh instead of missing what was pruned. A journal row naming chunk RESET
is a TRUNCATE of chunks: everything before it is gone, and a follower builds afresh too.
"""

from __future__ import annotations

from typing import Any

from rag.storage.database.schema import JOURNAL_LOCK_CLASS

PRUNED_KEY = "vector_journal_pruned"
KEEP_DAYS = 7.0
RESET = 0  # the chunk a TRUNCATE's journal row names: no chunk has id 0 (bigserial starts at 1)

# The floor and the journal's last number, then each chunk named past a position once with its last
# number, and whether it holds a vector of the dimension now (false: gone, or another dimension).
# The first two come even when no journal row does. The vectors themselves are read by the
# follower's binary COPY: fetched here as text they cost ~150 microseconds each.
CHANGES = """
SELECT f.upto, f.last, j.chunk_id, j.seq, vector_dims(c.vector) IS NOT DISTINCT FROM %s
FROM (
    SELECT coalesce(max(value::bigint), 0) AS upto, (SELECT coalesce(max(seq), 0) FROM vector_journal) AS last
    FROM manifest WHERE key = 'vector_journal_pruned'
) f
LEFT JOIN (SELECT chunk_id, max(seq) AS seq FROM vector_journal WHERE seq > %s GROUP BY chunk_id) j ON true
LEFT JOIN chunks c ON c.id = j.chunk_id
"""
assert PRUNED_KEY in CHANGES
# The last number written more than the given days ago, short of the journal's last row.
_CUTOFF = """
SELECT max(seq) FROM vector_journal
WHERE written_at < clock_timestamp() - make_interval(secs => %s)
AND seq < (SELECT max(seq) FROM vector_journal)
"""


def may_prune(connection: Any) -> bool:
    """Whether this role may prune the journal: delete its rows and raise the manifest's floor (a
    server's role may only read)."""
    row = connection.execute(
        "SELECT has_table_privilege('vector_journal', 'DELETE')"
        " AND has_table_privilege('manifest', 'INSERT')"
        " AND has_table_privilege('manifest', 'UPDATE')"
    ).fetchone()
    return bool(row and row[0])


def pruned_upto(connection: Any) -> int:
    """The highest journal number pruned (0: none)."""
    row = connection.execute("SELECT value FROM manifest WHERE key = %s", (PRUNED_KEY,)).fetchone()
    return int(row[0]) if row and str(row[0]).isdigit() else 0


def prune(connection: Any, keep_days: float = KEEP_DAYS) -> dict[str, int]:
    """Remove the journal rows written more than keep_days ago (never the last one) and raise the
    floor to the highest removed, in one transaction; return the floor and how many went."""
    with connection.transaction():
        row = connection.execute(_CUTOFF, (keep_days * 86_400,)).fetchone()
        upto = int(row[0]) if row and row[0] is not None else 0
        removed = 0
        if upto > pruned_upto(connection):
            removed = connection.execute("DELETE FROM vector_journal WHERE seq <= %s", (upto,)).rowcount
            connection.execute(
                "INSERT INTO manifest (key, value) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE"
                " SET value = greatest(manifest.value::bigint, EXCLUDED.value::bigint)::text",
                (PRUNED_KEY, str(upto)),
            )
        return {"journal_pruned_upto": max(upto, pruned_upto(connection)), "journal_rows_pruned": removed}


def floor_problem(connection: Any) -> str:
    """What is wrong when the journal's numbers are below its floor (emptied or restarted by hand), or ''."""
    row = connection.execute(
        "SELECT (SELECT coalesce(max(value::bigint), 0) FROM manifest WHERE key = %s),"
        " (SELECT coalesce(max(seq), 0) FROM vector_journal)",
        (PRUNED_KEY,),
    ).fetchone()
    upto, last = int(row[0]), int(row[1])
    if upto <= last:
        return ""
    return (
        f"the change journal's last number {last} is below its pruned floor {upto} (emptied or restarted"
        " by hand?): followers would build afresh at every search (--repair numbers on past the floor"
        " and journals a reset)"
    )


def number_past_floor(connection: Any) -> None:
    """Go on numbering past the floor, and journal a reset there (under the schema's journal lock, as
    the trigger does): every follower, whatever its position, builds afresh once."""
    connection.execute(
        "SELECT pg_advisory_xact_lock(%s, hashtext(n.nspname)) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'chunks'::regclass",
        (JOURNAL_LOCK_CLASS,),
    )
    connection.execute(
        "SELECT setval(pg_get_serial_sequence('vector_journal', 'seq'), %s)", (pruned_upto(connection),)
    )
    connection.execute("INSERT INTO vector_journal (chunk_id, added) VALUES (%s, false)", (RESET,))
