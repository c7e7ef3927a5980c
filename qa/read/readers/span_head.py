"""The cross-encoder's reader: the span its span head found in a sentence, read in the same
forward pass that ranked it (qa.read.rankers.cross), so reading costs nothing more. A sentence
the model did not read, or in which its span head found nothing, has no short answer."""

from __future__ import annotations

from qa.read.question import Question
from qa.read.roles import AnswerSpan, RankedSentence


class SpanHeadReader:
    """The Reader of the trained cross-encoder (paired with its ranker)."""

    def span(self, question: Question, ranked: RankedSentence) -> AnswerSpan | None:
        return ranked.span
