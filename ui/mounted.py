"""The chat UI's hook into `rag serve --ui` (the `verbatim.serve` entry point `ui` in pyproject.toml)."""

from __future__ import annotations

import sys
from typing import Any

import gradio as gr

import rag
from rag.ingest import UPLOADS_FOLDER
from rag.serve import UI_PATH
from ui import app as app_module
from ui import collections, security, server


def mount_chat_ui(api: Any, service: Any) -> None:
    """Mount the chat page at /ui on the API server; with keys, only a key for every collection logs in."""
    served = service.collections
    first = served.base(served.names[0])
    config = app_module.AppConfig(
        uploads=first.folder / UPLOADS_FOLDER,
        max_upload_bytes=service.limits.max_upload_bytes,
        examples=(),
        collections=served,
    )
    keys = service.keys
    if keys is None and (getattr(service, "tokens", None) is not None or served.policy is not None):
        # The page is not per person yet: open to whoever reaches it, it would show every document.
        raise rag.SettingsError(
            "the chat UI has no per-person login yet: with --oidc-issuer or --access give --keys too, and "
            "enter /ui with a key that may change every collection (people use the API and MCP with their tokens)"
        )
    page = app_module.build_app(first, config)
    auth = None
    if keys is not None:
        # The page shows, uploads to and removes from every collection, so it takes a key allowed all that.
        def may_do_everything(_user: str, key: str) -> bool:
            return collections.may_do_everything(keys.access_for(key), served.names)

        auth = security.ThrottledLogin(may_do_everything)

    folders = [served.base(name).folder for name in served.names]
    gr.mount_gradio_app(
        api,
        page,
        path=UI_PATH,
        auth=auth,
        auth_message="Log in with any user name and, as the password, an API key that may change every collection.",
        **server.page_options(folders, service.limits.max_upload_bytes // (1024 * 1024)),
    )
    print(f"Chat UI at {UI_PATH}/", file=sys.stderr, flush=True)
