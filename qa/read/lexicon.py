"""Lexical evidence: which of a question's terms (and adjacent term pairs) a sentence holds,
weighted by IDF (the store's statistics over every sentence, see qa.read.retrieve)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from index.tokens import bigrams, terms


@lru_cache(maxsize=16384)  # the sentences of the passages questions often retrieve
def terms_of(text: str) -> frozenset[str]:
    """The terms and adjacent term pairs a sentence holds."""
    ts = terms(text)
    return frozenset(ts) | frozenset(bigrams(ts))


def coverage(query_terms: list[str], held: frozenset[str], idf: Callable[[str], float]) -> float:
    """The IDF-weighted share of ``query_terms`` that a sentence holding ``held`` holds."""
    unique = set(query_terms)
    if not unique:
        return 0.0
    weights = {t: idf(t) for t in unique}
    total = sum(weights.values())
    # summed in float32 as the matrix product it replaces was, so the features are the same
    held_sum = np.float32(0.0)
    for t, w in weights.items():
        if t in held:
            held_sum += np.float32(w)
    return float(held_sum / np.float32(total))
