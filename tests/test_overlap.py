"""Files prepared ahead of the embedder: in order, bounded, errors raised where they are consumed."""

from __future__ import annotations

import threading
import time

import pytest

from rag.ingest.overlap import prepared_ahead


def test_results_come_in_the_order_of_the_items() -> None:
    assert list(prepared_ahead(range(200), lambda n: n * n, depth=3)) == [n * n for n in range(200)]


def test_the_preparing_thread_stays_at_most_depth_items_ahead() -> None:
    started: list[int] = []
    ahead: list[int] = []
    for consumed, _ in enumerate(prepared_ahead(range(30), started.append, depth=4)):
        time.sleep(0.01)  # a slow consumer: the producer would run to the end if unbounded
        ahead.append(len(started) - consumed)
    assert max(ahead) <= 4 + 2  # the queue, the item being put, the one being prepared


def test_an_error_while_preparing_is_raised_to_the_consumer_after_the_earlier_results() -> None:
    def prepare(n: int) -> int:
        if n == 3:
            raise ValueError("item 3 is broken")
        return n

    seen = []
    with pytest.raises(ValueError, match="item 3 is broken"):
        for value in prepared_ahead(range(10), prepare):
            seen.append(value)
    assert seen == [0, 1, 2]


def test_a_consumer_that_stops_early_stops_the_preparing_thread() -> None:
    results = prepared_ahead(range(10_000), lambda n: n, depth=2)
    assert next(results) == 0
    results.close()
    assert not [thread for thread in threading.enumerate() if thread.name == "rag-prepare"]
