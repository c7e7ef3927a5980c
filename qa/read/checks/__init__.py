"""Checks on the best sentence and its short answer, after the refusal model and before
anything is shown: each finds, narrowly and by rule, a sentence that shares the question's
words without answering it, as the reader and its verifier could not learn to
(docs/training.md, "Checks on the best sentence"). One concept per module:

- direction: the question's two names joined the other way round
- swapped: a question word swapped for another of its closed kind (number, day, opposite)
- reported: the date a source spoke, for when a thing happened
- echo: the question's own initials
- what a figure counts (``qa.read.figures.counts_other``), beside the figures it also pairs;
  and a "how many" answered with no figure at all (``qa.read.figures.without_figure``)
"""

from __future__ import annotations

from qa.read.checks.direction import reversed_in
from qa.read.checks.echo import initials_of_question
from qa.read.checks.reported import date_of_saying
from qa.read.checks.swapped import swapped_in
from qa.read.figures import counts_other, without_figure
from qa.read.roles import AnswerSpan


def not_answering(question: str, sentence: str, span: AnswerSpan) -> bool:
    """True when the best sentence and its short answer, for all their words in common with
    the question, do not answer it: the sentence joins the question's names the other way
    round (qa/read/checks/direction.py), it says another number, day or the opposite where the
    question says one (qa/read/checks/swapped.py), its number counts something else than the
    question's or the answer to a "how many" holds no figure at all (qa/read/figures.py), its
    date is when a source spoke (qa/read/checks/reported.py), or the answer is the initials
    of the question's own name (qa/read/checks/echo.py)."""
    start, end = span.start, span.end
    return (
        reversed_in(question, sentence)
        or swapped_in(question, sentence) is not None
        or counts_other(question, sentence, start, end)
        or without_figure(question, sentence[start:end])
        or date_of_saying(question, sentence, start)
        or initials_of_question(question, sentence[start:end])
    )
