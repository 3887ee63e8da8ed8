"""The mounted chat UI with people or permissions: a login is required (the provider's, or a key)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import rag
from rag.access import load_policy
from rag.serve.collections import open_collections
from rag.serve.limits import Limits
from ui.mounted import mount_chat_ui


def test_a_server_with_an_access_file_and_no_keys_refuses_the_open_chat_ui(
    river_index: Path, fake_embedder: rag.HashingEmbedder, tmp_path: Path
) -> None:
    collections = open_collections({"rivers": river_index}, embedder=fake_embedder)
    access = tmp_path / "access.toml"
    access.write_text('[collections.rivers]\nread = ["staff"]\n')
    collections.policy = load_policy(access, collections.names)
    service = SimpleNamespace(collections=collections, keys=None, tokens=None, limits=Limits())
    with pytest.raises(rag.SettingsError, match="needs a login here"):
        mount_chat_ui(object(), service)
    collections.close()
