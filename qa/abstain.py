"""Whether to answer at all. A question is answered when the evidence found makes an
answer likely: the best sentence's probability of holding it, how much of the question
the best passage covers, how rare the question's missing words are, how good a span the
reader found. A logistic model over these, fitted by ``python -m train.fit_abstain`` on
questions made unanswerable by leaving their paragraph out, gives the probability that
the question is answered by the documents; below ``abstain_below`` the service says so."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.evidence import ScoredSentence
from qa.linear import LinearModel, load_linear
from qa.retrieve import Retrieval

if TYPE_CHECKING:
    from qa.cross import CrossReader

WEIGHTS_FILE = Path(__file__).parent / "weights" / "abstain.json"
# the trained cross-encoder's scores need their own fit, kept beside its weights
ABSTAIN_WEIGHTS = "abstain.json"

FEATURES = (
    "best",  # probability that the best sentence holds the answer
    "second",  # the same for the runner-up
    "coverage",  # IDF-weighted share of the question's terms in the best sentence
    "passage_coverage",  # ... in the best passage
    "missing",  # weight of the rarest question term the best passage lacks, over the rarest's
    "passage_score",  # fused retrieval score of the best passage
    "dense",  # cosine of question and best sentence
    "reader",  # the reader's score for its best span
)


def load_model(path: Path = WEIGHTS_FILE) -> LinearModel:
    return load_linear(path, FEATURES)


def abstention_features(
    retrieval: Retrieval, ranked: list[ScoredSentence], reader_score: float
) -> np.ndarray:
    best = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    in_passage = frozenset().union(*(s.terms for s in retrieval.passages[0].sentences))
    weighted = [(retrieval.idf(t), t in in_passage) for t in set(retrieval.question_terms)]
    total = sum(w for w, _ in weighted) or 1.0
    rarest = max((w for w, _ in weighted), default=1.0)
    return np.array(
        [
            best.score,
            second,
            best.coverage,
            sum(w for w, held in weighted if held) / total,
            max((w for w, held in weighted if not held), default=0.0) / rarest,
            retrieval.passages[0].score,
            float(best.sentence.vector @ retrieval.question_vector),
            reader_score,
        ]
    )


def weights_for(cross: CrossReader | None) -> Path:
    """Where the abstention model for these scores is (or is written): beside the trained
    cross-encoder when it ranks, else the heuristics' qa/weights/abstain.json."""
    return cross.directory / ABSTAIN_WEIGHTS if cross is not None else WEIGHTS_FILE


def answerable_probability(features: np.ndarray, weights: Path = WEIGHTS_FILE) -> float:
    return float(load_model(weights).probability(features))
