"""The default answerer: no generative model. It cites the sentences most likely to hold
the answer and reads the short answer verbatim from the first of them. With the trained
cross-encoder (qa/cross.py) the best-ranked sentences are reranked by it and the short
answer is its span; without it, the fitted heuristics of qa/evidence.py and qa/reader.py
decide both."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import takewhile

import numpy as np

from index.tokens import STOP_WORDS, terms, words
from qa.abstain import (
    abstention_features,
    answerable_probability,
    weights_for,
)
from qa.answer import NO_ANSWER, Answer, Citation, PassageHit
from qa.attribution import source_of
from qa.cross import CrossReader
from qa.errors import TrainedModelError
from qa.evidence import ScoredSentence, score_sentences
from qa.reader import NO_SPAN_SCORE, best_span, read_answer
from qa.retrieve import HybridRetriever, Retrieval
from qa.span import answer_type


@dataclass(frozen=True)
class Reading:
    retrieval: Retrieval
    ranked: list[ScoredSentence]
    span: tuple[int, int, float] | None  # in the best sentence, with the reader's score
    features: np.ndarray | None  # for the abstention model
    retrieve_ms: float
    spans: dict[int, tuple[int, int]] | None = None  # the trained reader's, per sentence


# a runner-up sentence is cited too when it is at least this likely, relative to the best
RUNNER_UP = 0.35


class ExtractiveAnswerer:
    def __init__(
        self,
        retriever: HybridRetriever,
        top_k: int = 5,
        max_citations: int = 3,
        abstain_below: float = 0.33,
        cross: CrossReader | None = None,
        reading_only: bool = False,
    ) -> None:
        """``reading_only``: for fitting a refusal model (train.fit_abstain), which reads
        and never answers, so the model in ``cross`` need not have one yet."""
        self.retriever = retriever
        self.top_k = top_k
        self.max_citations = max_citations
        self.abstain_below = abstain_below
        self.cross = cross
        # the refusal model fitted on these scores: the heuristics' own, or the trained
        # model's, never one fitted on other scores
        self.abstain_weights = weights_for(cross)
        if cross is not None and not reading_only and not self.abstain_weights.is_file():
            raise TrainedModelError(
                f"the trained model in {cross.directory} has no refusal model "
                f"({self.abstain_weights.name}): fit one with `python -m train.fit_abstain "
                f"--trained-model {cross.directory} --out {self.abstain_weights} ...`, or set "
                "QA_TRAINED_MODEL=false"
            )

    def read(self, question: str, top_k: int | None = None) -> Reading:
        """Retrieve, rank the sentences and read the best one; no decision yet."""
        t0 = time.perf_counter()
        retrieval = self.retriever.retrieve(question, top_k or self.top_k)
        retrieve_ms = (time.perf_counter() - t0) * 1000
        ranked = score_sentences(retrieval)
        if not ranked:
            return Reading(retrieval, ranked, None, None, retrieve_ms)
        spans = None
        if self.cross is not None:
            ranked, spans, span = self._rerank(question, ranked)
        else:
            span = best_span(question, ranked[0].sentence.text)
        reader_score = span[2] if span else NO_SPAN_SCORE
        features = abstention_features(retrieval, ranked, reader_score)
        return Reading(retrieval, ranked, span, features, retrieve_ms, spans)

    def _rerank(self, question: str, ranked: list[ScoredSentence]):
        """The trained model's order of the best-ranked sentences, its spans in them, and
        its span in the first (with its score)."""
        assert self.cross is not None
        top = ranked[: self.cross.candidates]
        texts = [s.sentence.text for s in top]
        order = self.cross.rerank(question, texts, [s.score for s in top])
        read = {k for k, _, _ in order}
        rescored = [replace(top[k], score=p) for k, p, _ in order]
        floor = rescored[-1].score
        rest = [
            replace(s, score=min(s.score, floor)) for k, s in enumerate(ranked) if k not in read
        ]
        spans = {top[k].sentence.id: (r.start, r.end) for k, _, r in order if r.start >= 0}
        best = order[0][2]
        span = (best.start, best.end, best.span_score) if best.start >= 0 else None
        return rescored + rest, spans, span

    def answer(self, question: str, top_k: int | None = None) -> Answer:
        t0 = time.perf_counter()
        return self.answer_from(question, self.read(question, top_k), t0)

    def answer_from(self, question: str, reading: Reading, t0: float) -> Answer:
        """The answer, or the abstention, that a reading supports (``t0``: when it began)."""
        ranked, span = reading.ranked, reading.span
        passages = self._passages(reading.retrieval, reading.ranked)
        confidence = (
            answerable_probability(reading.features, self.abstain_weights)
            if reading.features is not None
            else 0.0
        )
        total = (time.perf_counter() - t0) * 1000
        timings = {"retrieve": reading.retrieve_ms, "answer": total - reading.retrieve_ms}
        if span is None or confidence < self.abstain_below:
            return Answer(None, True, NO_ANSWER, [], passages, timings, confidence)

        cited = self._cite(ranked)
        citations = [self._citation(n, s) for n, s in enumerate(cited, start=1)]
        answer = citations[0].text[span[0] : span[1]]
        text = self._text(question, answer, cited, citations, reading.spans)
        return Answer(answer, False, text, citations, passages, timings, confidence)

    def stream(self, question: str, top_k: int | None = None) -> Iterator[str | Answer]:
        result = self.answer(question, top_k)
        yield result.text
        yield result

    def _cite(self, ranked: list[ScoredSentence]) -> list[ScoredSentence]:
        """The best sentence, plus runners-up nearly as likely (the answer may need both,
        or the sources may differ)."""
        best = ranked[0]
        extra = [s for s in ranked[1 : self.max_citations] if s.score >= RUNNER_UP * best.score]
        return [best, *extra]

    def _text(
        self,
        question: str,
        answer: str,
        cited: list[ScoredSentence],
        citations: list[Citation],
        spans: dict[int, tuple[int, int]] | None = None,
    ) -> str:
        """The readable answer. When the question asks for a figure and the cited
        sentences give different ones, each is stated with its source and citation."""
        if answer_type(question) == "number" and len(citations) > 1:
            figures = []
            for s, c in zip(cited, citations):
                span = spans.get(s.sentence.id) if spans else read_answer(question, c.text)
                if span:
                    figures.append((c.text[span[0] : span[1]], c, span[1]))
            figures = _same_measure(question, figures)
            distinct = {_figure_key(f) for f, _, _ in figures}
            if len(distinct) > 1:
                parts = []
                for figure, c, _ in figures:
                    source = source_of(c.text) or c.doc_id
                    parts.append(f"{figure} ({source}) [{c.n}]")
                return "The sources give different figures: " + "; ".join(parts) + "."
        return " ".join(f"{c.text} [{c.n}]" for c in citations)

    def _citation(self, n: int, s: ScoredSentence) -> Citation:
        sentence = s.sentence
        return Citation(
            n, sentence.doc_id, sentence.start, sentence.end, sentence.text, round(s.score, 4)
        )

    def _passages(self, retrieval: Retrieval, ranked: list[ScoredSentence]) -> list[PassageHit]:
        """The retrieved passages, in the order of their best-ranked sentence (ties keep
        the retrieval order), so the passage of the cited sentence comes first. A passage
        holding an instruction-like sentence is not shown: what such a sentence says (a
        link to log in at, say) is never put before the reader."""
        position = {s.sentence.id: n for n, s in enumerate(ranked)}
        order = []
        for p in retrieval.passages:
            if any(s.flagged for s in p.sentences):
                continue
            best = min((position.get(s.id, len(ranked)) for s in p.sentences), default=0)
            order.append((best, p))
        order.sort(key=lambda t: t[0])
        return [PassageHit(p.doc_id, p.start, p.end, p.text, round(p.score, 5)) for _, p in order]


def _counted(text: str) -> set[str]:
    """The stemmed words right after a figure (up to the next punctuation, at most four):
    what it counts ("1,500 special forces troops" -> special, forc, troop)."""
    clause = re.split(r"[,.;:()]", text, maxsplit=1)[0]
    return set(terms(" ".join(clause.split()[:4])))


def _same_measure(question: str, figures: list[tuple[str, Citation, int]]):
    """The (figure, citation, where the figure ends in it) that count the same thing as
    the first: what follows each figure shares a word with what follows the first, or with
    what the question asks to count ("how many troops"). 1,500 troops and eight million
    artillery rounds do not conflict."""
    if not figures:
        return figures
    asked = re.search(r"\bhow (?:many|much)\s+(.*)", question, re.IGNORECASE)
    wanted = set()
    if asked:  # the words up to the first verb or function word: "troops" of "troops were"
        noun = list(takewhile(lambda w: w not in STOP_WORDS, words(asked.group(1))))
        wanted = set(terms(" ".join(noun)))
    _, citation, end = figures[0]
    wanted |= _counted(citation.text[end:])
    return [figures[0]] + [f for f in figures[1:] if _counted(f[1].text[f[2] :]) & wanted]


def _figure_key(figure: str) -> str:
    """ "about 1,500" and "1,500" are the same figure."""
    return " ".join(w for w in words(figure) if any(ch.isdigit() for ch in w)) or figure.lower()
