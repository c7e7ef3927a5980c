"""Grouping consecutive sentences of one document into overlapping passages, and how a
passage gets its vector."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, get_args

import numpy as np

PassageVectors = Literal["pooled", "embedded"]


@dataclass(frozen=True)
class Chunking:
    sentences: int = 4
    overlap: int = 1
    # "pooled": the mean of its sentences' vectors (no encoder pass of its own: half the
    # embedding work of an ingest, the same answers on dev13); "embedded": its title and
    # text encoded as one input (indexes made before pooling existed)
    passage_vectors: PassageVectors = "pooled"

    def __post_init__(self) -> None:
        if self.sentences < 1 or not 0 <= self.overlap < self.sentences:
            raise ValueError("passages need >= 1 sentence and 0 <= overlap < sentences")
        if self.passage_vectors not in get_args(PassageVectors):
            raise ValueError("passage vectors are 'pooled' or 'embedded'")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, stored: dict) -> Chunking:
        """The chunking a manifest records; one written before pooling embedded them."""
        return cls(**{"passage_vectors": "embedded", **stored})


def pooled(sentence_vectors: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    """Each passage's vector: the normalised mean of its sentences' (rows [first, last))."""
    out = np.zeros((len(ranges), sentence_vectors.shape[1]), np.float32)
    for k, (first, last) in enumerate(ranges):
        out[k] = sentence_vectors[first:last].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


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
