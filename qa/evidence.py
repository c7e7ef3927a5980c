"""Choosing the sentences that answer: every sentence of the retrieved passages is scored
on several signals, and the evidence score decides whether to answer at all."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.retrieve import HybridRetriever, Retrieval


@dataclass(frozen=True)
class ScoredSentence:
    sentence: int
    score: float
    cosine: float
    coverage: float  # IDF-weighted share of the question's terms found in the sentence
    passage_rank: int


def coverage(retriever: HybridRetriever, question_terms: list[str], sentence: int) -> float:
    """Share of the question's IDF mass present in the sentence. Terms the collection has
    never seen weigh the most: a question about them is probably not answered here."""
    unique = set(question_terms)
    if not unique:
        return 0.0
    total = sum(retriever.term_idf(t) for t in unique)
    have = retriever.sentence_terms[sentence]
    return sum(retriever.term_idf(t) for t in unique if t in have) / total


def score_sentences(retriever: HybridRetriever, retrieval: Retrieval) -> list[ScoredSentence]:
    index = retriever.index
    scored: dict[int, ScoredSentence] = {}
    for rank, j in enumerate(retrieval.passages):
        _, first, last = index.passages[j]
        ids = np.arange(first, last)
        cos = retriever.sentence_matrix[ids] @ retrieval.question_vector
        for i, c in zip(ids.tolist(), cos.tolist()):
            if i in scored:
                continue
            cov = coverage(retriever, retrieval.question_terms, i)
            score = 0.45 * c + 0.45 * cov + 0.10 / (1 + rank)
            scored[i] = ScoredSentence(i, score, c, cov, rank)
    return sorted(scored.values(), key=lambda s: -s.score)


def evidence_score(best: ScoredSentence) -> float:
    """How sure the best sentence is an answer; calibrated against ``abstain_below``."""
    return 0.5 * best.coverage + 0.5 * max(best.cosine, 0.0)
