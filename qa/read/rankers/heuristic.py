"""The heuristic ranker. Every sentence of the retrieved passages is described by a few
signals and scored by a logistic model fitted on a Q&A set (``python -m
train.fit_evidence``); a sentence's score is the probability that it holds the answer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from index.tokens import bigrams
from qa.read.lexicon import coverage
from qa.read.linear import LinearModel, load_linear
from qa.read.patterns import has_typed_candidate
from qa.read.question import Question
from qa.read.retrieve import Retrieval, Sentence
from qa.read.roles import RankedSentence
from qa.shipped import WEIGHTS_DIR

WEIGHTS_FILE = WEIGHTS_DIR / "evidence.json"
# the abstention model fitted on these scores and the heuristic reader's (train.fit_abstain)
ABSTAIN_WEIGHTS = WEIGHTS_FILE.with_name("abstain.json")

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


def load_model(path: Path = WEIGHTS_FILE) -> LinearModel:
    return load_linear(path, FEATURES)


def candidate_features(
    question: Question, retrieval: Retrieval
) -> tuple[list[Sentence], list[int], np.ndarray]:
    """(sentences, rank of their best passage, feature rows) for the sentences of the
    retrieved passages, except instruction-like ones (index.injection): a document's orders
    are never evidence, so no answerer cites them or shows them to a model."""
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
                    1.0 if has_typed_candidate(question, s.text) else 0.0,
                    math.log(len(s.text) + 1),
                    1.0 if s.opens_document else 0.0,
                ]
            )
    return chosen, ranks, np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def rank_sentences(question: Question, retrieval: Retrieval) -> list[RankedSentence]:
    sentences, ranks, x = candidate_features(question, retrieval)
    if not sentences:
        return []
    probability = load_model().probability(x)
    scored = [
        RankedSentence(s, float(p), float(row[2]), r)
        for s, r, p, row in zip(sentences, ranks, probability, x)
    ]
    return sorted(scored, key=lambda s: -s.score)


class HeuristicRanker:
    """The Ranker of the fitted heuristics."""

    abstain_weights = ABSTAIN_WEIGHTS
    reader = "phrases"
    model_dir = None

    def rank(self, question: Question, retrieval: Retrieval) -> list[RankedSentence]:
        return rank_sentences(question, retrieval)
