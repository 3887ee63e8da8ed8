"""Drawn page images kept in memory, bounded in bytes (one cache per process, shared by its indexes)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

# About 200 highlighted pages at 1,000 px (PNGs of 150-400 KB).
CACHE_BYTES = 64 * 1024 * 1024


class PageCache:
    """Drawn pages by key, least recently used dropped first, at most max_bytes of PNG in all."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._images: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, draw: Callable[[], bytes]) -> bytes:
        """The cached image of key, else draw() (kept when it fits)."""
        with self._lock:
            if key in self._images:
                self._images.move_to_end(key)
                return self._images[key]
        image = draw()
        with self._lock:
            if len(image) <= self.max_bytes and key not in self._images:
                self._images[key] = image
                self._bytes += len(image)
                while self._bytes > self.max_bytes:
                    _, dropped = self._images.popitem(last=False)
                    self._bytes -= len(dropped)
        return image

    def __len__(self) -> int:
        return len(self._images)


PAGE_CACHE = PageCache()
