"""chat_model_for: the language model a Settings names (endpoint, local file, or the bundled model)."""

from __future__ import annotations

from rag.llm.base import ChatModel, LLMUnavailableError
from rag.settings import Settings


def chat_model_for(settings: Settings) -> ChatModel:
    """The configured model: an HTTP endpoint, else a local model file or folder, else the bundled one."""
    # Imported here: an extractive answer (the default) loads neither the HTTP client nor the local runner.
    from rag.llm.client import OpenAIChatClient
    from rag.llm.local import find_bundled_llm, load_local_model

    if settings.llm_base_url:
        return OpenAIChatClient(
            settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout
        )
    path = settings.llm_local_path or find_bundled_llm()
    if path:
        return load_local_model(str(path))
    raise LLMUnavailableError(
        "no language model is configured: give --llm-base-url (or RAG_LLM_BASE_URL) for a server, "
        "or --llm-local PATH (or RAG_LLM_LOCAL) for a GGUF file or model folder"
    )
