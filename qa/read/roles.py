"""The roles of the read path after retrieval, each a small protocol with its
implementations behind it, chosen by name in a registry:

    Retriever (qa.read.retrieve) -> Ranker (qa.read.rankers) -> Reader (qa.read.readers)
        -> Abstainer (qa.read.abstain) -> Answerer (qa.read.answerers)

A ranker orders the retrieved sentences by how likely each holds the answer; a reader finds
the short answer in a ranked sentence; the abstainer, fitted on a ranker's and reader's
scores, gives the probability that the documents answer at all. qa.read.pipeline runs them in
turn and hands one ``Evidence`` (qa.read.evidence) to the answerer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.read.question import Question
from qa.read.retrieve import Retrieval, Sentence


@dataclass(frozen=True)
class AnswerSpan:
    start: int  # the short answer's characters in its sentence's text
    end: int
    score: float  # the reader's score for it (the abstainer weighs it)


@dataclass(frozen=True)
class RankedSentence:
    sentence: Sentence
    score: float  # probability that the sentence holds the answer
    coverage: float  # IDF-weighted share of the question's terms in it
    passage_rank: int  # rank of its best passage in the retrieval
    # the short answer the ranker's model read in it on the way (a cross-encoder's span
    # head reads it in the same pass that ranks); None when the ranker reads none
    span: AnswerSpan | None = None


class Ranker(Protocol):
    # the abstention model fitted on this ranker's scores (qa.read.abstain), written by
    # train.fit_abstain: every ranker owns its own
    abstain_weights: Path
    reader: str  # the reader (qa.read.readers) it was fitted with, by name
    model_dir: str | None  # the trained model it runs (GET /health), None for heuristics

    def rank(self, question: Question, retrieval: Retrieval) -> list[RankedSentence]:
        """The retrieved sentences that may be cited (never instruction-like ones), best
        first."""
        ...


class Reader(Protocol):
    def span(self, question: Question, ranked: RankedSentence) -> AnswerSpan | None:
        """The short answer in the sentence, or None when no span answers."""
        ...


class Abstainer(Protocol):
    below: float  # abstain when the probability is below this

    def probability(self, features: np.ndarray) -> float:
        """That the documents answer, from the abstention features (qa.read.abstain)."""
        ...
