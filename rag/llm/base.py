"""What every language model here is: the ChatModel protocol, its message type and its errors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from rag.errors import RagError

Message = dict[str, str]


class LLMError(RagError):
    """A language model call failed."""


class LLMUnavailableError(LLMError):
    """The language model cannot be reached, loaded, or does not know the model asked for."""


class LLMResponseError(LLMError):
    """The endpoint answered with something that is not a valid chat completion."""


class ChatModel(Protocol):
    """Anything that turns chat messages into streamed text: an HTTP endpoint or a local model."""

    name: str

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        """Yield the reply's text in pieces as it is generated."""
        ...

    def complete(self, messages: Sequence[Message], max_tokens: int) -> str:
        """Return the whole reply."""
        ...
