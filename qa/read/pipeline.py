"""/ask as a pipeline of roles: retrieve, rank, read, abstain, answer. Each role is one of
the implementations registered behind it (qa.read.roles); the pipeline runs them in turn, once
per question, and hands the one ``Evidence`` they make to the answerer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from index.stores.interface import Scope
from qa.read.abstain import NO_SPAN_SCORE, abstention_features
from qa.read.answer import Answer
from qa.read.checks import not_answering
from qa.read.evidence import Answerer, Evidence, citation, cited, shown_passages
from qa.read.figures import counts_asked, counts_other
from qa.read.question import Question
from qa.read.retrieve import HybridRetriever, Retrieval
from qa.read.roles import Abstainer, AnswerSpan, RankedSentence, Ranker, Reader
from qa.read.verify import Verifier

SECOND_LOOK = 6  # sentences after the best searched for one that counts what is asked


@dataclass(frozen=True)
class Findings:
    """What the roles before the abstainer found (train.fit_abstain fits on these)."""

    question: Question
    retrieval: Retrieval
    ranked: list[RankedSentence]
    span: AnswerSpan | None  # the short answer in the best sentence (the verifier's if any)
    features: np.ndarray | None  # for the abstainer; None when nothing may be cited
    retrieve_ms: float


def find(
    retriever: HybridRetriever,
    ranker: Ranker,
    reader: Reader,
    question: str,
    top_k: int,
    only: Scope | None = None,
    verifier: Verifier | None = None,
) -> Findings:
    """Retrieve (from the documents ``only``, if given), rank the sentences and read the
    best one (and have ``verifier`` check it, if given); no decision yet."""
    asked = Question.of(question)
    t0 = time.perf_counter()
    retrieval = retriever.retrieve(question, top_k, only)
    retrieve_ms = (time.perf_counter() - t0) * 1000
    return read(ranker, reader, asked, retrieval, retrieve_ms, verifier)


def read(
    ranker: Ranker,
    reader: Reader,
    asked: Question,
    retrieval: Retrieval,
    retrieve_ms: float,
    verifier: Verifier | None = None,
) -> Findings:
    """Rank the retrieved sentences and read the best one."""
    ranked = ranker.rank(asked, retrieval)
    if not ranked:
        return Findings(asked, retrieval, ranked, None, None, retrieve_ms)
    span = reader.span(asked, ranked[0])
    reader_score = span.score if span else NO_SPAN_SCORE
    verified = None
    if verifier is not None:
        verdict = verifier.verify(asked.text, ranked[0], retrieval)
        verified = verdict.logit
        if span is not None and verdict.span is not None:
            # the verifier reads the sentence with its neighbours: its span, the reader's
            # score (which the abstainer was fitted on)
            span = AnswerSpan(verdict.span.start, verdict.span.end, span.score)
    features = abstention_features(retrieval, ranked, reader_score, verified)
    return Findings(asked, retrieval, ranked, span, features, retrieve_ms)


def counted_elsewhere(found: Findings) -> bool:
    """The best sentence's figure counts another thing than the "how many" question asks
    ("13,000 containers" for artillery shells), and one of the next few sentences holds a
    figure that counts it: the question is worth reading again without that sentence. (No
    sentence ranked: no span either.)"""
    question, span = found.question.text, found.span
    if span is None or not counts_other(
        question, found.ranked[0].sentence.text, span.start, span.end
    ):
        return False
    return any(counts_asked(question, r.sentence.text) for r in found.ranked[1:SECOND_LOOK])


class Pipeline:
    def __init__(
        self,
        retriever: HybridRetriever,
        ranker: Ranker,
        reader: Reader,
        abstainer: Abstainer,
        answerer: Answerer,
        top_k: int = 5,
        max_citations: int = 3,
        verifier: Verifier | None = None,
    ) -> None:
        self.retriever = retriever
        self.ranker = ranker
        self.reader = reader
        self.abstainer = abstainer
        self.answerer = answerer
        self.top_k = top_k
        self.max_citations = max_citations
        self.verifier = verifier

    def evidence(
        self, question: str, top_k: int | None = None, only: Scope | None = None
    ) -> Evidence:
        t0 = time.perf_counter()
        found = find(
            self.retriever, self.ranker, self.reader, question, top_k or self.top_k, only,
            self.verifier,
        )  # fmt: skip
        if counted_elsewhere(found):
            # read again as if the best sentence were not there (it counts something else);
            # the passages are shown whole
            again = read(
                self.ranker, self.reader, found.question,
                found.retrieval.without(found.ranked[0].sentence.id), found.retrieve_ms,
                self.verifier,
            )  # fmt: skip
            found = replace(again, retrieval=found.retrieval)
        passages = shown_passages(found.retrieval, found.ranked)
        probability = (
            self.abstainer.probability(found.features) if found.features is not None else 0.0
        )
        total = (time.perf_counter() - t0) * 1000
        timings = {"retrieve": found.retrieve_ms, "answer": total - found.retrieve_ms}
        asked, span = found.question, found.span
        if span is not None and not_answering(asked.text, found.ranked[0].sentence.text, span):
            probability = 0.0  # the best sentence does not answer, whatever the scores say
        if span is None or probability < self.abstainer.below:
            return Evidence(asked, found.ranked, passages, probability, None, timings_ms=timings)
        chosen = cited(found.ranked, self.max_citations)
        citations = [citation(n, s) for n, s in enumerate(chosen, start=1)]
        figures = []
        if asked.kind == "number" and len(chosen) > 1:
            spans = [span] + [self.reader.span(asked, s) for s in chosen[1:]]
            figures = [(s.start, s.end) if s else None for s in spans]
        answer = citations[0].text[span.start : span.end]
        return Evidence(
            asked, found.ranked, passages, probability, answer, citations, figures, timings
        )

    def answer(self, question: str, top_k: int | None = None, only: Scope | None = None) -> Answer:
        return self.answerer.answer(self.evidence(question, top_k, only))

    def stream(
        self, question: str, top_k: int | None = None, only: Scope | None = None
    ) -> Iterator[str | Answer]:
        """Pieces of the answer text as they are produced, then the final ``Answer``."""
        return self.answerer.stream(self.evidence(question, top_k, only))
