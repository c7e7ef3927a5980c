"""The default backend: the extractive answerer, which has its whole answer at once, so it
streams as a single piece followed by the final answer."""

from __future__ import annotations

from collections.abc import Iterator

from qa.answer import Answer
from qa.extractive import ExtractiveAnswerer


class StreamingExtractiveAnswerer(ExtractiveAnswerer):
    def stream(self, question: str, top_k: int | None = None) -> Iterator[str | Answer]:
        result = self.answer(question, top_k)
        yield result.text
        yield result
