"""Several served collections in the chat UI (`rag serve --ui`): the picked ones answer together."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from types import SimpleNamespace
from typing import Any

import rag


def selection(collections: rag.Collections, names: Sequence[str]) -> Any:
    """What the chat asks of a knowledge base (ask_stream, document), over the picked collections."""
    picked = [name for name in names if name in collections.names] or collections.names
    return SimpleNamespace(
        ask_stream=partial(collections.ask_stream, picked),
        document=partial(collections.document, picked),
    )


def may_do_everything(access: Any, names: Sequence[str]) -> bool:
    """Whether a key's access covers reading and changing every served collection (the UI shows all)."""
    return access is not None and set(names) <= access.writable
