"""Choosing the sentences that answer. Every sentence of the retrieved passages is
described by a few signals and scored by a logistic model fitted on a Q&A set
(``python -m train.fit_evidence``); the score of the best sentence is the probability that
it holds the answer, which also decides whether to answer at all."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.lexicon import bigrams
from qa.linear import LinearModel, load_linear
from qa.retrieve import HybridRetriever, Retrieval
from qa.span import answer_type, has_typed_candidate

WEIGHTS_FILE = Path(__file__).parent / "weights" / "evidence.json"

FEATURES = (
    "dense",  # cosine of question and sentence
    "bm25",  # sentence BM25 over the collection's best
    "coverage",  # IDF-weighted share of the question's terms in the sentence
    "bigram_coverage",  # the same for adjacent term pairs
    "passage_score",  # fused score of its best passage over the top passage's
    "passage_rank",  # 1 / (1 + rank of that passage)
    "typed",  # holds a span of the type asked for (a number for "how many", ...)
    "length",  # log characters
    "first",  # first sentence of its document (often a title)
)


@dataclass(frozen=True)
class ScoredSentence:
    sentence: int
    score: float  # probability the sentence holds the answer
    coverage: float
    passage_rank: int


def load_model(path: Path = WEIGHTS_FILE) -> LinearModel:
    return load_linear(path, FEATURES)


def candidate_features(
    retriever: HybridRetriever, retrieval: Retrieval
) -> tuple[list[int], list[int], np.ndarray]:
    """(sentence ids, rank of their best passage, feature rows) for the sentences of the
    retrieved passages, except instruction-like ones (index.injection): a document's orders
    are never evidence, so no answerer cites them or shows them to a model."""
    index = retriever.index
    question = retrieval.question
    kind = answer_type(question)
    coverage = retriever.lexicon.coverage(retrieval.question_terms)
    pair_terms = bigrams(retrieval.question_terms)
    pairs = retriever.lexicon.coverage(pair_terms) if pair_terms else None
    top = retrieval.passage_scores[0] if retrieval.passage_scores else 1.0
    top = top if top > 0 else 1.0
    ids: list[int] = []
    ranks: list[int] = []
    rows: list[list[float]] = []
    seen: set[int] = set()
    flagged = index.flagged
    for rank, (j, pscore) in enumerate(zip(retrieval.passages, retrieval.passage_scores)):
        doc, first, last = (int(x) for x in index.passages[j])
        doc_first = first == 0 or int(index.sentences[first - 1][0]) != doc
        vectors = retriever.sentence_matrix[first:last] @ retrieval.question_vector
        for k, i in enumerate(range(first, last)):
            if i in seen or flagged[i]:
                continue
            seen.add(i)
            text = index.sentence_text(i)
            ids.append(i)
            ranks.append(rank)
            rows.append(
                [
                    float(vectors[k]),
                    float(retrieval.sentence_bm25[i]),
                    float(coverage[i]),
                    float(pairs[i]) if pairs is not None else 0.0,
                    pscore / top,
                    1.0 / (1 + rank),
                    1.0 if has_typed_candidate(question, text, kind) else 0.0,
                    math.log(len(text) + 1),
                    1.0 if (doc_first and k == 0) else 0.0,
                ]
            )
    return ids, ranks, np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def score_sentences(retriever: HybridRetriever, retrieval: Retrieval) -> list[ScoredSentence]:
    ids, ranks, x = candidate_features(retriever, retrieval)
    if not ids:
        return []
    probability = load_model().probability(x)
    scored = [
        ScoredSentence(i, float(p), float(row[2]), r)
        for i, r, p, row in zip(ids, ranks, probability, x)
    ]
    return sorted(scored, key=lambda s: -s.score)
