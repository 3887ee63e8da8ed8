"""A server's PostgreSQL collections, followed: each one's FAISS index (storage/database/follower.py)
built before the server says it is serving, then caught up with the change journal every few
seconds while it waits for questions; and, once a day when the server's role may write, the
journal pruned as `rag optimize` prunes it.

Without this the first question to a big collection waited for the whole build (45.5 s at a
million chunks, docs/scale.md), and a server left idle for longer than the journal is kept
(`rag optimize` prunes rows older than a week) built everything again at its next question. A
catch-up that finds nothing new is one index lookup in the database.
"""

from __future__ import annotations

import sys
import threading
import time

from rag.errors import RagError
from rag.serve.collections import Collections

FOLLOW_SECONDS = 5.0  # how often an idle server catches its followers up
# How often a server whose role may write prunes each collection's change journal (its first round
# too), so a team's journal stays bounded without anyone running `rag optimize`.
PRUNE_SECONDS = 86_400.0


def follow_before_serving(collections: Collections) -> list[str]:
    """Build (or take this machine's saved copy of) each PostgreSQL collection's FAISS index, saying
    which on stderr; return the names of the collections followed."""
    followed = []
    for name in collections.names:
        base = collections.base(name)
        if base.url is None:
            continue
        started = time.perf_counter()
        described = base.follow_database()
        if described is not None:
            followed.append(name)
            how = (
                "taken from this machine's saved copy"
                if described.get("from_saved_copy")
                else f"built from {described.get('vectors', 0):,} vectors"
            )
            seconds = time.perf_counter() - started
            print(f"collection {name}: its vector index is ready, {how} ({seconds:.1f} s)", file=sys.stderr)
    return followed


def start_following(collections: Collections, names: list[str], stop: threading.Event) -> None:
    """Catch the named collections' followers up every FOLLOW_SECONDS in a thread, until stop is set.
    A database that cannot be reached is said once per collection, and tried again each round."""
    if not names:
        return

    def follow() -> None:
        failing: set[str] = set()
        pruned: dict[str, float] = {}  # when each collection's journal was last pruned (monotonic)
        while not stop.wait(FOLLOW_SECONDS):
            for name in names:
                try:
                    base = collections.base(name)
                    base.follow_database()
                    if time.monotonic() - pruned.get(name, -PRUNE_SECONDS) >= PRUNE_SECONDS:
                        base.prune_database_journal()  # nothing for a role that may only read
                        pruned[name] = time.monotonic()
                except RagError as error:
                    if name not in failing:
                        print(
                            f"collection {name}: cannot catch up with the database ({error})", file=sys.stderr
                        )
                    failing.add(name)
                else:
                    failing.discard(name)

    threading.Thread(target=follow, name="follow-databases", daemon=True).start()
