"""Whether to answer at all. A question is answered when the evidence found makes an
answer likely: the best sentence's probability of holding it, how much of the question
the best passage covers, how rare the question's missing words are, how good a span the
reader found. A logistic model over these, fitted by ``python -m train.fit_abstain`` on
questions made unanswerable by leaving their paragraph out, gives the probability that
the question is answered by the documents; below ``below`` (fitted with the model, or the
QA_ABSTAIN_BELOW setting) the service says so.

The model is fitted on one ranker's and reader's scores and kept with that ranker (its
``abstain_weights``): another ranker's scores mean something else, so a ranker without
its own is an error, never given another's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qa.errors import TrainedModelError
from qa.read.linear import LinearModel, load_linear
from qa.read.retrieve import Retrieval
from qa.read.roles import RankedSentence

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
# with an answerability verifier beside the reader (qa/read/verify.py): its logit that the
# best sentence with its neighbours answers
VERIFIED = "verified"
NO_SPAN_SCORE = -10.0  # the "reader" feature when the reader found no span
# the threshold of a refusal model fitted without one of its own
DEFAULT_BELOW = 0.33


def fitted_features(path: Path) -> tuple[str, ...]:
    """The features the refusal model at ``path`` was fitted on: ``FEATURES``, and
    ``VERIFIED`` after them when it was fitted with a verifier."""
    return tuple(json.loads(path.read_text(encoding="utf-8"))["features"])


def load_model(path: Path) -> LinearModel:
    features = fitted_features(path)
    return load_linear(path, (*FEATURES, VERIFIED) if VERIFIED in features else FEATURES)


def fitted_below(path: Path) -> float:
    """The threshold written with the refusal model at ``path`` (DEFAULT_BELOW if none)."""
    return float(json.loads(path.read_text(encoding="utf-8")).get("below", DEFAULT_BELOW))


def abstention_features(
    retrieval: Retrieval,
    ranked: list[RankedSentence],
    reader_score: float,
    verified: float | None = None,
) -> np.ndarray:
    """``FEATURES`` of the evidence found, then ``verified`` when given."""
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
            *(() if verified is None else (verified,)),
        ]
    )


class LogisticAbstainer:
    """The Abstainer: the logistic model in ``weights``, loaded now."""

    def __init__(self, weights: Path, below: float | None = None) -> None:
        if not weights.is_file():
            raise TrainedModelError(
                f"no refusal model at {weights}: fit one for this ranker with `python -m "
                f"train.fit_abstain --out {weights} ...`, or set QA_TRAINED_MODEL=false"
            )
        self.weights = weights
        self.model = load_model(weights)
        # fitted with the verifier's logit (one weight more): the pipeline must run it
        self.verified = len(self.model.coef) > len(FEATURES)
        self.below = fitted_below(weights) if below is None else below

    def probability(self, features: np.ndarray) -> float:
        return float(self.model.probability(features))
