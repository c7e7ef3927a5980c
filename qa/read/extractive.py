"""The default answerer: no generative model. It answers with the evidence as found: the
short answer the reader read in the best sentence, and the cited sentences themselves. When
the question asks for a figure and the cited sentences give different ones, it states each
with its source instead of choosing one."""

from __future__ import annotations

from collections.abc import Iterator

from index.tokens import words
from qa.read.answer import NO_ANSWER, Answer, Citation
from qa.read.attribution import source_of
from qa.read.evidence import Evidence
from qa.read.figures import asked_to_count, counted


class ExtractiveAnswerer:
    """The Answerer without a model."""

    def answer(self, evidence: Evidence) -> Answer:
        timings = dict(evidence.timings_ms)
        if evidence.answer is None:
            return Answer(
                None, True, NO_ANSWER, [], evidence.passages, timings, evidence.probability
            )
        return Answer(
            evidence.answer,
            False,
            _text(evidence),
            evidence.citations,
            evidence.passages,
            timings,
            evidence.probability,
        )

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        result = self.answer(evidence)
        yield result.text
        yield result


def _text(evidence: Evidence) -> str:
    """The readable answer: the cited sentences with their markers, or, when the cited
    sentences give different figures for what is asked, each with its source."""
    question, citations = evidence.question.text, evidence.citations
    if evidence.figures:
        figures = []
        for span, c in zip(evidence.figures, citations):
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


def _same_measure(question: str, figures: list[tuple[str, Citation, int]]):
    """The (figure, citation, where the figure ends in it) that count what the question asks
    to count ("how many troops"), or, when it names nothing, the same thing as the first.
    1,500 troops and eight million artillery rounds do not conflict, nor do 13,000
    containers and eight million rounds."""
    wanted = asked_to_count(question)
    if wanted:
        return [f for f in figures if counted(f[1].text[f[2] :]) & wanted]
    if not figures:
        return figures
    _, citation, end = figures[0]
    first = counted(citation.text[end:])
    return [figures[0]] + [f for f in figures[1:] if counted(f[1].text[f[2] :]) & first]


def _figure_key(figure: str) -> str:
    """ "about 1,500" and "1,500" are the same figure."""
    return " ".join(w for w in words(figure) if any(ch.isdigit() for ch in w)) or figure.lower()
