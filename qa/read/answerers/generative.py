"""An answerer around any chat model: the evidence decides whether the documents answer at
all, and its extractive answer is the fallback; the model words the answer from the best
few sentences; grounding decides what of its reply may be shown, and with which
citations."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from index.embed import Embedder
from qa.read.answer import NO_ANSWER, Answer
from qa.read.answerers.chat import ChatModel, Message
from qa.read.answerers.grounding import DEFAULT_THRESHOLDS, Grounding, Source, Thresholds, ground
from qa.read.answerers.prompt import build_messages
from qa.read.evidence import Evidence
from qa.read.extractive import ExtractiveAnswerer
from qa.read.question import Question

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Prepared:
    question: Question
    fallback: Answer
    sources: list[Source]
    vectors: np.ndarray
    messages: list[Message]


class GenerativeAnswerer:
    def __init__(
        self,
        model: ChatModel,
        embedder: Embedder,
        *,
        sources: int = 3,
        max_tokens: int = 96,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.model = model
        self.embedder = embedder  # to ground the reply's claims
        self.extractive = ExtractiveAnswerer()  # the fallback
        self.sources = sources
        self.max_tokens = max_tokens
        self.thresholds = thresholds

    def answer(self, evidence: Evidence) -> Answer:
        prepared = self._prepare(evidence)
        if not prepared.sources:
            return prepared.fallback
        t0 = time.perf_counter()
        reply = self.model.complete(prepared.messages, self.max_tokens)
        return self._finish(prepared, reply, (time.perf_counter() - t0) * 1000)

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        """The model's reply as generated (not yet grounded), then the grounded answer."""
        prepared = self._prepare(evidence)
        if not prepared.sources:
            yield prepared.fallback.text
            yield prepared.fallback
            return
        t0 = time.perf_counter()
        pieces = []
        for piece in self.model.stream(prepared.messages, self.max_tokens):
            pieces.append(piece)
            yield piece
        yield self._finish(prepared, "".join(pieces), (time.perf_counter() - t0) * 1000)

    def _prepare(self, evidence: Evidence) -> _Prepared:
        """The extractive answer (also the fallback) and the sentences the model will see;
        none when the evidence is too weak to answer at all."""
        question = evidence.question
        fallback = self.extractive.answer(evidence)
        if fallback.abstained:
            return _Prepared(question, fallback, [], np.zeros((0, 1)), [])
        t0 = time.perf_counter()
        sources = evidence.sources(self.sources)
        vectors = np.stack([r.sentence.vector for r in evidence.ranked[: self.sources]])
        messages = build_messages(question.text, [s.text for s in sources])
        fallback.timings_ms["prompt"] = (time.perf_counter() - t0) * 1000
        return _Prepared(question, fallback, sources, vectors, messages)

    def _finish(self, prepared: _Prepared, reply: str, generate_ms: float) -> Answer:
        t0 = time.perf_counter()
        g = ground(
            prepared.question,
            reply,
            prepared.sources,
            self.embedder,
            prepared.vectors,
            self.thresholds,
        )
        timings = {
            **prepared.fallback.timings_ms,
            "generate": generate_ms,
            "ground": (time.perf_counter() - t0) * 1000,
        }
        if g.unsupported or g.dropped_markers:
            log.info(
                "removed %d unsupported claim(s), dropped markers %s from %s's reply",
                len(g.unsupported),
                list(g.dropped_markers),
                self.model.name,
            )
        if g.declined:
            return replace(
                prepared.fallback,
                answer=None,
                abstained=True,
                text=NO_ANSWER,
                citations=[],
                timings_ms=timings,
            )
        if not g.grounded:
            log.info("%s's reply could not be grounded: %r", self.model.name, reply)
            return replace(
                prepared.fallback, grounded=False, fallback="extractive", timings_ms=timings
            )
        return _grounded_answer(g, prepared, timings)


def _grounded_answer(g: Grounding, prepared: _Prepared, timings: dict[str, float]) -> Answer:
    by_n = {s.n: s for s in prepared.sources}
    # citations renumbered 1..k in order of first use
    order = list(dict.fromkeys(n for claim in g.claims for n in claim.sources))
    number = {n: k for k, n in enumerate(order, start=1)}
    citations = [replace(by_n[n], n=number[n]) for n in order]
    text = " ".join(f"{c.text} " + "".join(f"[{number[n]}]" for n in c.sources) for c in g.claims)
    n, start, end = g.answer
    return replace(
        prepared.fallback,
        answer=by_n[n].text[start:end],
        abstained=False,
        text=text,
        citations=citations,
        timings_ms=timings,
        grounded=True,
        fallback=None,
    )
