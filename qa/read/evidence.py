"""What the pipeline hands every answerer: one ``Evidence`` per question, with the ranked
sentences, the citations an answer gives (offsets and scores), the question's analysis,
the extractive short answer and the probability that the documents answer. Citations are
made here and only here; an answerer words the answer, it does not search again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from qa.read.answer import Answer, Citation, PassageHit
from qa.read.question import Question
from qa.read.retrieve import Retrieval
from qa.read.roles import RankedSentence

# a runner-up sentence is cited too when it is at least this likely, relative to the best
RUNNER_UP = 0.35


@dataclass(frozen=True)
class Evidence:
    question: Question
    ranked: list[RankedSentence]  # every sentence that may be cited, best first
    passages: list[PassageHit]  # what was retrieved, in the order of their best sentence
    probability: float  # that the documents answer the question (the abstainer's)
    answer: str | None  # the short answer, verbatim from citations[0]; None: abstain
    citations: list[Citation] = field(default_factory=list)  # empty when abstaining
    # the reader's short answer in each citation, for a question asking for a figure
    # (the extractive answer compares them); empty for other questions
    figures: list[tuple[int, int] | None] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def abstained(self) -> bool:
        return self.answer is None

    def sources(self, k: int) -> list[Citation]:
        """The best ``k`` sentences as citations numbered 1..k: what a generative model
        is shown."""
        return [citation(n, s) for n, s in enumerate(self.ranked[:k], start=1)]


class Answerer(Protocol):
    """The last role: the answer the evidence supports, worded by its model."""

    def answer(self, evidence: Evidence) -> Answer: ...

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        """Pieces of the answer text as they are produced, then the final ``Answer``."""
        ...


def citation(n: int, ranked: RankedSentence) -> Citation:
    s = ranked.sentence
    where = s.places
    return Citation(
        n, s.doc_id, s.title, s.start, s.end, s.text, round(ranked.score, 4),
        where.page_at(s.start), where.label_at(s.start), where.section_at(s.start),
    )  # fmt: skip


def cited(ranked: list[RankedSentence], most: int) -> list[RankedSentence]:
    """The best sentence, plus runners-up nearly as likely (the answer may need both, or
    the sources may differ), ``most`` in all at the most."""
    best = ranked[0]
    extra = [s for s in ranked[1:most] if s.score >= RUNNER_UP * best.score]
    return [best, *extra]


def shown_passages(retrieval: Retrieval, ranked: list[RankedSentence]) -> list[PassageHit]:
    """The retrieved passages, in the order of their best-ranked sentence (ties keep the
    retrieval order), so the passage of the cited sentence comes first. A passage holding
    an instruction-like sentence is not shown: what such a sentence says (a link to log in
    at, say) is never put before the reader."""
    position = {s.sentence.id: n for n, s in enumerate(ranked)}
    order = []
    for p in retrieval.passages:
        if any(s.flagged for s in p.sentences):
            continue
        best = min((position.get(s.id, len(ranked)) for s in p.sentences), default=0)
        order.append((best, p))
    order.sort(key=lambda t: t[0])
    return [PassageHit(p.doc_id, p.start, p.end, p.text, round(p.score, 5)) for _, p in order]
