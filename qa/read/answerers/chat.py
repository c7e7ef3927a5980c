"""The role a generative model plays: turn chat messages into text, whole or in pieces."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}


class ChatModel(Protocol):
    name: str

    def complete(self, messages: list[Message], max_tokens: int) -> str: ...

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        """The reply as it is generated, in pieces that concatenate to the whole."""
        ...
