"""Word statistics of the indexed sentences, for lexical evidence: which of a question's
terms (and adjacent term pairs) each sentence holds, weighted by IDF."""

from __future__ import annotations

import math

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
        df = np.asarray(self.matrix.sum(axis=0)).ravel()
        self.idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        # a term no sentence holds weighs the most: a question about it is likely unanswered
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def weight(self, term: str) -> float:
        k = self.vocab.get(term)
        return float(self.idf[k]) if k is not None else self.unseen_idf

    def coverage(self, query_terms: list[str]) -> np.ndarray:
        """For every sentence, the IDF-weighted share of ``query_terms`` it holds."""
        unique = set(query_terms)
        if not unique:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        q = np.zeros(len(self.vocab), dtype=np.float32)
        total = 0.0
        for t in unique:
            w = self.weight(t)
            total += w
            if t in self.vocab:
                q[self.vocab[t]] = w
        return (self.matrix @ q) / total
