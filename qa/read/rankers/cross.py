"""The cross-encoder ranker: the heuristic ranker's best sentences reranked by the trained
model (qa/read/cross.py), which reads the short answer of each in the same pass. Its score is a
correction added to the heuristics' logit, not a replacement; the sentences it does not
read keep their order below the last it read."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from qa.read.cross import CrossModel, CrossScore, logit
from qa.read.question import Question
from qa.read.rankers.heuristic import rank_sentences
from qa.read.retrieve import Retrieval
from qa.read.roles import AnswerSpan, RankedSentence

# the abstention model fitted on this model's scores, kept beside its weights
ABSTAIN_WEIGHTS = "abstain.json"


def rerank(
    model: CrossModel, question: str, sentences: Sequence[str], probabilities: Sequence[float]
) -> list[tuple[int, float, CrossScore]]:
    """The heuristics' best sentences (best first, with their probabilities) reordered:
    (position in ``sentences``, probability, the model's score), best first. Only the first
    ``model.candidates`` sentences within ``model.gap`` of the best logit are read."""
    priors = [logit(p) for p in probabilities[: model.candidates]]
    if not priors:
        return []
    chosen = [k for k, z in enumerate(priors) if z >= priors[0] - model.gap]
    scores = model.score(question, [sentences[k] for k in chosen])
    scored = [(k, _sigmoid(priors[k] + r.relevance), r) for k, r in zip(chosen, scores)]
    return sorted(scored, key=lambda t: -t[1])


class CrossRanker:
    """The Ranker of the trained cross-encoder."""

    def __init__(self, model: CrossModel) -> None:
        self.model = model
        self.model_dir: str | None = str(model.directory)
        self.abstain_weights = model.directory / ABSTAIN_WEIGHTS
        self.reader = "span-head"  # its span head reads in the pass that ranks

    def rank(self, question: Question, retrieval: Retrieval) -> list[RankedSentence]:
        ranked = rank_sentences(question, retrieval)
        top = ranked[: self.model.candidates]
        order = rerank(
            self.model, question.text, [s.sentence.text for s in top], [s.score for s in top]
        )
        if not order:
            return ranked
        seen = {k for k, _, _ in order}
        rescored = [replace(top[k], score=p, span=_span(r)) for k, p, r in order]
        floor = rescored[-1].score
        rest = [
            replace(s, score=min(s.score, floor)) for k, s in enumerate(ranked) if k not in seen
        ]
        return rescored + rest


def _span(score: CrossScore) -> AnswerSpan | None:
    return AnswerSpan(score.start, score.end, score.span_score) if score.start >= 0 else None


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))
