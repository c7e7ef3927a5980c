"""Hybrid retrieval: dense (FAISS) and BM25, over passages and over sentences, fused by
reciprocal rank. A sentence hit votes for the passages that hold it."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from index.embed import Embedder
from index.store import StoredIndex, vectors_of
from index.tokens import terms

RRF_K = 60
DEPTH = 50  # how deep each ranking is read before fusion


@dataclass(frozen=True)
class Retrieval:
    question_vector: np.ndarray
    question_terms: list[str]
    passages: list[int]  # passage ids, best first
    passage_scores: list[float]  # fused scores, same order
    dense_passage_scores: dict[int, float]


class HybridRetriever:
    def __init__(self, index: StoredIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self.sentence_matrix = vectors_of(index.sentence_vectors)
        self.sentence_terms = [
            frozenset(terms(index.sentence_text(i))) for i in range(len(index.sentences))
        ]
        df = Counter(t for ts in self.sentence_terms for t in ts)
        n = len(self.sentence_terms)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        # the passages that hold each sentence (overlap: up to two)
        self.passages_of: list[list[int]] = [[] for _ in range(n)]
        for j, (_, first, last) in enumerate(index.passages):
            for i in range(first, last):
                self.passages_of[i].append(j)

    def term_idf(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def retrieve(self, question: str, top_k: int) -> Retrieval:
        qvec = self.embedder.encode([question])[0]
        qterms = terms(question)
        n_pass = len(self.index.passages)
        n_sent = len(self.index.sentences)

        d_scores, d_ids = self.index.passage_vectors.search(qvec[None, :], min(DEPTH, n_pass))
        dense_passages = [int(j) for j in d_ids[0] if j >= 0]
        _, s_ids = self.index.sentence_vectors.search(qvec[None, :], min(DEPTH, n_sent))
        dense_sentences = [int(i) for i in s_ids[0] if i >= 0]
        bm25_passages = _top(self.index.passage_bm25, qterms, DEPTH)
        bm25_sentences = _top(self.index.sentence_bm25, qterms, DEPTH)

        fused: Counter[int] = Counter()
        for ranking in (
            dense_passages,
            bm25_passages,
            self._to_passages(dense_sentences),
            self._to_passages(bm25_sentences),
        ):
            for rank, j in enumerate(ranking):
                fused[j] += 1.0 / (RRF_K + rank + 1)
        best = fused.most_common(top_k)
        return Retrieval(
            question_vector=qvec,
            question_terms=qterms,
            passages=[j for j, _ in best],
            passage_scores=[s for _, s in best],
            dense_passage_scores={int(j): float(s) for j, s in zip(d_ids[0], d_scores[0])},
        )

    def _to_passages(self, sentence_ranking: list[int]) -> list[int]:
        seen: dict[int, None] = {}
        for i in sentence_ranking:
            for j in self.passages_of[i]:
                seen.setdefault(j)
        return list(seen)


def _top(bm25, query_terms: list[str], k: int) -> list[int]:
    known = [t for t in query_terms if t in bm25.vocab_dict]
    if not known:
        return []
    scores = bm25.get_scores(known)
    k = min(k, int((scores > 0).sum()))
    if k == 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    return [int(i) for i in top[np.argsort(-scores[top])]]
