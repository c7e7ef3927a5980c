"""Word statistics of the indexed sentences, for lexical evidence: which of a question's
terms (and adjacent term pairs) each sentence holds, weighted by IDF."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from index.store import StoredIndex
from index.tokens import bigrams, terms




class Lexicon:
    def __init__(self, index: StoredIndex) -> None:
        n = len(index.sentences)
        self.vocab: dict[str, int] = {}
        rows, cols = [], []
        for i in range(n):
            ts = terms(index.sentence_text(i))
            for t in set(ts) | set(bigrams(ts)):
                rows.append(i)
                cols.append(self.vocab.setdefault(t, len(self.vocab)))
        self.matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, len(self.vocab))
        )
        self.names = list(self.vocab)  # vocabulary id -> term
        df = np.asarray(self.matrix.sum(axis=0)).ravel()
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        # a term no sentence holds weighs the most: a question about it is likely unanswered
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def weight(self, term: str) -> float:
        k = self.vocab.get(term)
        return float(self.idf[k]) if k is not None else self.unseen_idf

    def terms_of(self, sentence: int) -> frozenset[str]:
        """The terms and term pairs sentence ``sentence`` holds."""
        m = self.matrix
        return frozenset(
            self.names[k] for k in m.indices[m.indptr[sentence] : m.indptr[sentence + 1]]
        )


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
