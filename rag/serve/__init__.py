"""`rag serve`: collections over HTTP (OpenAI-compatible chat, search, documents) and MCP.

`__all__` is its public face, which ui/ and eval/ may import: a server started from Python, its
limits, and where the chat UI mounts.
"""

from rag.exports import lazy_exports as _lazy_exports

_EXPORTS = {
    "ServeConfig": "rag.serve.service",
    "RunningServer": "rag.serve.server",
    "Limits": "rag.serve.limits",
    "UI_PATH": "rag.serve.app",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
