"""Grouping consecutive sentences of one document into overlapping passages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chunking:
    sentences: int = 4
    overlap: int = 1

    def __post_init__(self) -> None:
        if self.sentences < 1 or not 0 <= self.overlap < self.sentences:
            raise ValueError("passages need >= 1 sentence and 0 <= overlap < sentences")


def group_passages(n_sentences: int, chunking: Chunking) -> list[tuple[int, int]]:
    """Half-open sentence ranges [first, last) covering 0..n_sentences."""
    if n_sentences == 0:
        return []
    step = chunking.sentences - chunking.overlap
    ranges = []
    first = 0
    while True:
        last = min(first + chunking.sentences, n_sentences)
        ranges.append((first, last))
        if last == n_sentences:
            return ranges
        first += step


def passage_input(title: str, text: str) -> str:
    """What is embedded and matched for a passage: its document's title, then its text."""
    return text if text.startswith(title) else f"{title}\n{text}"
