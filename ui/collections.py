"""Several served collections in the chat UI (`rag serve --ui`): the picked ones answer together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rag


def selection(collections: rag.Collections, names: Sequence[str]) -> rag.Corpus:
    """The picked collections as one corpus the chat asks and reads (all of them when none is)."""
    return collections.select([name for name in names if name in collections.names])


def may_do_everything(access: Any, names: Sequence[str]) -> bool:
    """Whether a key's access covers reading and changing every served collection (the UI shows all)."""
    return access is not None and set(names) <= access.writable
