"""What every answerer returns, whatever model is behind it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class PassageHit:
    doc_id: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Answer:
    answer: str | None
    abstained: bool
    text: str
    citations: list[Citation]
    passages: list[PassageHit]
    timings_ms: dict[str, float] = field(default_factory=dict)
    evidence_score: float = 0.0
    # False when a generative model's reply could not be grounded in the cited sentences;
    # ``fallback`` then names the answerer whose answer is shown instead.
    grounded: bool = True
    fallback: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Answerer(Protocol):
    def answer(self, question: str, top_k: int | None = None) -> Answer: ...

    def stream(self, question: str, top_k: int | None = None) -> Iterator[str | Answer]:
        """Pieces of the answer text as they are produced, then the final ``Answer``."""
        ...


NO_ANSWER = "The documents do not answer this question."
