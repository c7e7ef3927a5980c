"""What every answerer returns, whatever model is behind it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str  # its document's
    start: int
    end: int
    text: str
    score: float
    # where it stands in the file: its PDF page (1-based) and that page's printed label,
    # the heading it falls under (Markdown, HTML, Word); None where the file has none
    page: int | None = None
    page_label: str | None = None
    section: str | None = None


@dataclass(frozen=True)
class PassageHit:
    doc_id: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Answer:
    answer: str | None
    abstained: bool
    text: str
    citations: list[Citation]
    passages: list[PassageHit]
    timings_ms: dict[str, float] = field(default_factory=dict)
    evidence_score: float = 0.0
    # False when a generative model's reply could not be grounded in the cited sentences;
    # ``fallback`` then names the answerer whose answer is shown instead.
    grounded: bool = True
    fallback: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


NO_ANSWER = "The documents do not answer this question."
