"""The default answerer: no generative model. It cites the best-scoring sentences and
takes the short answer verbatim from the first of them."""

from __future__ import annotations

import time

from qa.answer import NO_ANSWER, Answer, Citation, PassageHit
from qa.evidence import ScoredSentence, evidence_score, score_sentences
from qa.retrieve import HybridRetriever, Retrieval
from qa.span import short_answer


class ExtractiveAnswerer:
    def __init__(
        self,
        retriever: HybridRetriever,
        top_k: int = 5,
        max_citations: int = 2,
        abstain_below: float = 0.5,
    ) -> None:
        self.retriever = retriever
        self.top_k = top_k
        self.max_citations = max_citations
        self.abstain_below = abstain_below

    def answer(self, question: str, top_k: int | None = None) -> Answer:
        t0 = time.perf_counter()
        retrieval = self.retriever.retrieve(question, top_k or self.top_k)
        t1 = time.perf_counter()
        ranked = score_sentences(self.retriever, retrieval)
        passages = self._passages(retrieval)
        confidence = evidence_score(ranked[0]) if ranked else 0.0

        span = None
        if ranked and confidence >= self.abstain_below:
            span = short_answer(question, self.retriever.index.sentence_text(ranked[0].sentence))
        t2 = time.perf_counter()
        timings = {"retrieve": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000}
        if span is None:
            return Answer(None, True, NO_ANSWER, [], passages, timings, confidence)

        cited = self._cite(ranked)
        citations = [self._citation(n, s) for n, s in enumerate(cited, start=1)]
        first = citations[0]
        answer = first.text[span[0] : span[1]]
        text = " ".join(f"{c.text} [{c.n}]" for c in citations)
        return Answer(answer, False, text, citations, passages, timings, confidence)

    def _cite(self, ranked: list[ScoredSentence]) -> list[ScoredSentence]:
        """The best sentence, plus runners-up nearly as good (the answer may need both)."""
        best = ranked[0]
        extra = [
            s
            for s in ranked[1 : self.max_citations]
            if s.score >= 0.9 * best.score and s.coverage >= 0.5
        ]
        return [best, *extra]

    def _citation(self, n: int, s: ScoredSentence) -> Citation:
        index = self.retriever.index
        doc, start, end = (int(x) for x in index.sentences[s.sentence])
        text = index.documents[doc].text[start:end]
        return Citation(n, index.documents[doc].doc_id, start, end, text, round(s.score, 4))

    def _passages(self, retrieval: Retrieval) -> list[PassageHit]:
        index = self.retriever.index
        hits = []
        for j, score in zip(retrieval.passages, retrieval.passage_scores):
            doc, first, last = (int(x) for x in index.passages[j])
            start, end = int(index.sentences[first][1]), int(index.sentences[last - 1][2])
            d = index.documents[doc]
            hits.append(PassageHit(d.doc_id, start, end, d.text[start:end], round(score, 5)))
        return hits
