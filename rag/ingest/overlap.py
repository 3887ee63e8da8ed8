"""Preparing the next files while the current ones are embedded: a producer thread, a bounded queue.

Parsing runs in the sandbox's child processes and the embedding model releases the GIL while it
computes, so reading and chunking the next files overlaps embedding and writing the current
ones. The queue is bounded: a fast reader never holds more than `depth` prepared files in memory
ahead of the writer. Results come back in the order of the items.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Prepared files held ahead of the embedder: a few batches' worth, a bounded amount of memory.
PREPARE_AHEAD = 64


class _Failed:
    """What the producer hands on when preparing raised: the error, raised again by the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


class _Producer(Generic[Item, Result]):
    def __init__(self, items: Iterable[Item], prepare: Callable[[Item], Result], depth: int) -> None:
        self.items = items
        self.prepare = prepare
        self.results: queue.Queue[object] = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            for item in self.items:
                if self.stopped.is_set():
                    return
                self._put(self.prepare(item))
        except BaseException as error:  # noqa: BLE001 - the consumer raises it again, in its own thread
            self._put(_Failed(error))
            return
        self._put(_DONE)

    def _put(self, value: object) -> None:
        while not self.stopped.is_set():
            try:
                self.results.put(value, timeout=0.1)
                return
            except queue.Full:
                continue


def prepared_ahead(
    items: Iterable[Item], prepare: Callable[[Item], Result], depth: int = PREPARE_AHEAD
) -> Iterator[Result]:
    """prepare(item) for each item, in order, computed by a thread up to `depth` items ahead."""
    producer: _Producer[Item, Result] = _Producer(items, prepare, depth)
    thread = threading.Thread(target=producer.run, name="rag-prepare", daemon=True)
    thread.start()
    try:
        while True:
            value = producer.results.get()
            if value is _DONE:
                return
            if isinstance(value, _Failed):
                raise value.error
            yield value  # type: ignore[misc]
    finally:
        producer.stopped.set()  # a consumer that stops early (an error) stops the producer too
        thread.join()
