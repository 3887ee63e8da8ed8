"""Packages outside rag/ that add themselves to `rag serve`, found through entry points.

A package lists a function `hook(app, service)` under the `verbatim.serve` entry point group
(the chat UI: `ui = "ui.mounted:mount_chat_ui"` in pyproject.toml); `rag serve --ui` loads the
one named "ui" and calls it with the FastAPI app before serving. The core never imports the UI.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from rag.errors import SettingsError
from rag.serve.app import Mount

HOOK_GROUP = "verbatim.serve"


def serve_hook(name: str) -> Mount:
    """The hook an installed package registered as `name` in the verbatim.serve entry points."""
    found = entry_points(group=HOOK_GROUP).select(name=name)
    if not found:
        raise SettingsError(
            f"nothing is registered as {name!r} for rag serve: install verbatim-rag with its "
            f"{name} extra (pip install -e '.[{name}]' in a checkout; again after pyproject.toml changes)"
        )
    try:
        hook: Mount = next(iter(found)).load()
    except ImportError as error:
        raise SettingsError(
            f"rag serve --{name} needs {error.name or 'its libraries'}: pip install 'verbatim-rag[{name}]'"
        ) from error
    return hook
