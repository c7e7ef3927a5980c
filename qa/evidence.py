"""Choosing the sentences that answer. Every sentence of the retrieved passages is
described by a few signals and scored by a logistic model fitted on a Q&A set
(``python -m train.fit_evidence``); the score of the best sentence is the probability that
it holds the answer, which also decides whether to answer at all."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.lexicon import bigrams, coverage
from qa.linear import LinearModel, load_linear
from qa.retrieve import Retrieval, Sentence
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
    sentence: Sentence
    score: float  # probability the sentence holds the answer
    coverage: float
    passage_rank: int


def load_model(path: Path = WEIGHTS_FILE) -> LinearModel:
    return load_linear(path, FEATURES)


def candidate_features(retrieval: Retrieval) -> tuple[list[Sentence], list[int], np.ndarray]:
    """(sentences, rank of their best passage, feature rows) for the sentences of the
    retrieved passages, except instruction-like ones (index.injection): a document's orders
    are never evidence, so no answerer cites them or shows them to a model."""
    question = retrieval.question
    kind = answer_type(question)
    pair_terms = bigrams(retrieval.question_terms)
    top = retrieval.passages[0].score if retrieval.passages else 1.0
    top = top if top > 0 else 1.0
    chosen: list[Sentence] = []
    ranks: list[int] = []
    rows: list[list[float]] = []
    seen: set[int] = set()
    for rank, passage in enumerate(retrieval.passages):
        for s in passage.sentences:
            if s.id in seen or s.flagged:
                continue
            seen.add(s.id)
            chosen.append(s)
            ranks.append(rank)
            rows.append(
                [
                    float(s.vector @ retrieval.question_vector),
                    s.bm25,
                    coverage(retrieval.question_terms, s.terms, retrieval.idf),
                    coverage(pair_terms, s.terms, retrieval.idf) if pair_terms else 0.0,
                    passage.score / top,
                    1.0 / (1 + rank),
                    1.0 if has_typed_candidate(question, s.text, kind) else 0.0,
                    math.log(len(s.text) + 1),
                    1.0 if s.opens_document else 0.0,
                ]
            )
    return chosen, ranks, np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def score_sentences(retrieval: Retrieval) -> list[ScoredSentence]:
    sentences, ranks, x = candidate_features(retrieval)
    if not sentences:
        return []
    probability = load_model().probability(x)
    scored = [
        ScoredSentence(s, float(p), float(row[2]), r)
        for s, r, p, row in zip(sentences, ranks, probability, x)
    ]
    return sorted(scored, key=lambda s: -s.score)
