"""Scoring one question's response, and summing scored questions up into the figures
of ``metrics.json`` (overall and per question type)."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from eval.data import QUESTION_TYPES, QAItem, group_name
from eval.metrics import (
    best_em,
    best_f1,
    contains_answer,
    covers,
    doc_rank,
    mean,
    mrr,
    percentile,
    recall_at,
    share,
)


@dataclass(frozen=True)
class ScoredCitation:
    n: int
    doc_id: str
    start: int
    end: int
    text: str
    supports: bool
    offsets_ok: bool | None  # None: the document is not in the docs folder to check against


@dataclass(frozen=True)
class Scored:
    id: str
    question: str
    qtype: str
    answers: tuple[str, ...]
    doc: str
    evidence: str
    prediction: str | None
    abstained: bool
    em: float
    f1: float
    gold_rank: int | None
    docs_returned: int
    evidence_hit1: bool
    evidence_hitk: bool
    citations: list[ScoredCitation]
    retrieved: list[str]
    latency_ms: float
    error: str | None = None
    server_ms: dict[str, float] = field(default_factory=dict)
    # the service's probability that the documents answer (None: not reported)
    evidence_score: float | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def to_dict(self) -> dict:
        row = asdict(self)
        row["answers"] = list(self.answers)
        return row


def evidence_span(doc_text: str | None, evidence: str) -> tuple[int, int] | None:
    if not doc_text or not evidence:
        return None
    start = doc_text.find(evidence)
    return (start, start + len(evidence)) if start >= 0 else None


def score(
    item: QAItem,
    response: Mapping | None,
    latency_ms: float,
    doc_texts: Mapping[str, str] | None = None,
    error: str | None = None,
) -> Scored:
    """Score one response (``Answer.to_dict()`` or the ``/ask`` JSON). A citation supports
    the answer when it contains a gold answer or covers the gold evidence sentence; with
    ``doc_texts`` each citation's offsets are checked against its document's text."""
    response = response or {}
    prediction = response.get("answer") or None
    abstained = bool(response.get("abstained", False))
    if abstained:
        prediction = None
    gold_span = evidence_span((doc_texts or {}).get(item.doc), item.evidence)
    citations = []
    for c in response.get("citations", []):
        offsets_ok = None
        if doc_texts is not None and c["doc_id"] in doc_texts:
            offsets_ok = doc_texts[c["doc_id"]][c["start"] : c["end"]] == c["text"]
        # offsets that do not reproduce the text cannot show where the evidence is
        in_gold = c["doc_id"] == item.doc and gold_span is not None and offsets_ok is not False
        supports = item.answerable and (
            contains_answer(c["text"], item.answers)
            or (in_gold and covers((c["start"], c["end"]), gold_span))
        )
        citations.append(
            ScoredCitation(
                c["n"], c["doc_id"], c["start"], c["end"], c["text"], supports, offsets_ok
            )
        )
    retrieved = [p["doc_id"] for p in response.get("passages", [])]
    return Scored(
        id=item.id,
        question=item.question,
        qtype=item.qtype,
        answers=item.answers,
        doc=item.doc,
        evidence=item.evidence,
        prediction=prediction,
        abstained=abstained,
        em=best_em(prediction, item.answers) if error is None else 0.0,
        f1=best_f1(prediction, item.answers) if error is None else 0.0,
        gold_rank=doc_rank(retrieved, item.doc),
        docs_returned=len(dict.fromkeys(retrieved)),
        evidence_hit1=bool(citations) and citations[0].supports,
        evidence_hitk=any(c.supports for c in citations),
        citations=citations,
        retrieved=retrieved,
        latency_ms=latency_ms,
        error=error,
        server_ms=dict(response.get("timings_ms", {})),
        evidence_score=response.get("evidence_score") if error is None else None,
    )


def rated_questions(scored: Sequence[Scored]) -> list[Scored]:
    """The questions the service gave an evidence score (no error): what the refusal
    figures and the coverage curve are over."""
    return [s for s in scored if s.evidence_score is not None and s.error is None]


def refusal_auc(scored: Sequence[Scored]) -> float:
    """ROC AUC of the evidence score between answerable (positive) and unanswerable
    questions: how well the score separates them whatever the threshold (0.5 is a coin;
    NaN without both kinds or without scores)."""
    rated = rated_questions(scored)
    labels = [s.answerable for s in rated]
    if len(set(labels)) < 2:
        return math.nan
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, [s.evidence_score for s in rated]))


def refusal_auc_within(scored: Sequence[Scored]) -> float:
    """The same AUC over the questions of the groups (articles: ``doc`` up to "__") that
    hold unanswerable questions, each unanswerable question against the answerable ones of
    its own group, pooled: what separates a question from its neighbours, not one
    article's questions from another's (SQuAD 2.0's unanswerable questions are in two of
    its first ten articles). NaN when no group holds both kinds."""
    rated = rated_questions(scored)
    groups: dict[str, list[Scored]] = {}
    for s in rated:
        groups.setdefault(group_name(s.doc), []).append(s)
    pairs = won = 0.0
    for members in groups.values():
        yes = sorted(s.evidence_score for s in members if s.answerable)
        no = [s.evidence_score for s in members if not s.answerable]
        for score in no:
            # answerable questions of the group scored above this one, ties counting half
            below, upto = bisect_left(yes, score), bisect_right(yes, score)
            won += len(yes) - upto + 0.5 * (upto - below)
        pairs += len(yes) * len(no)
    return won / pairs if pairs else math.nan


def coverage_curve(scored: Sequence[Scored], points: int = 50) -> list[tuple[float, float, float]]:
    """(threshold, share of all questions answered, mean F1 of those answered) as the
    abstention threshold rises from the run's own. A question is answered at a threshold
    when the run answered it and its evidence score reaches the threshold; an unanswerable
    question answered scores 0. Questions the run refused have no answer to score, so the
    curve starts at the run's threshold: run with ``QA_ABSTAIN_BELOW=0`` for all of it."""
    rated = rated_questions(scored)
    answered = sorted((s for s in rated if not s.abstained), key=lambda s: -s.evidence_score)
    if not rated or not answered:
        return []
    curve, total = [], 0.0
    step = max(1, len(answered) // points)
    for i, s in enumerate(answered, 1):
        total += s.f1
        if i % step == 0 or i == len(answered):
            curve.append((s.evidence_score, i / len(rated), total / i))
    return curve


def _clean(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(value, 4)


def summarize(scored: Sequence[Scored], wall_s: float | None = None) -> dict:
    """The figures over a set of scored questions. Answer, retrieval and evidence figures
    are over answerable questions; ``with_refusals`` scores every question, an
    unanswerable one being right only when refused (SQuAD 2.0 style)."""
    ans = [s for s in scored if s.answerable]
    unans = [s for s in scored if not s.answerable]
    ranks = [s.gold_rank for s in ans]
    cited = [c for s in ans for c in s.citations]
    checked = [c for s in scored for c in s.citations if c.offsets_ok is not None]
    latencies = [s.latency_ms for s in scored if s.error is None]
    out = {
        "questions": len(scored),
        "answerable": len(ans),
        "unanswerable": len(unans),
        "errors": sum(s.error is not None for s in scored),
        "answer": {
            "em": mean([s.em for s in ans]),
            "f1": mean([s.f1 for s in ans]),
            "with_refusals_em": mean([s.em for s in scored]),
            "with_refusals_f1": mean([s.f1 for s in scored]),
        },
        "retrieval": {
            "recall@1": recall_at(ranks, 1),
            "recall@5": recall_at(ranks, 5),
            "recall@10": recall_at(ranks, 10),
            "mrr": mrr(ranks),
            "docs_returned_mean": mean([s.docs_returned for s in ans]),
        },
        "evidence": {
            "hit@1": share([s.evidence_hit1 for s in ans]),
            "hit@k": share([s.evidence_hitk for s in ans]),
        },
        "citations": {
            "count": len(cited),
            "precision": share([c.supports for c in cited]),
            "bad_offsets": sum(not c.offsets_ok for c in checked),
            "checked": len(checked),
        },
        "refusals": {
            "unanswerable_refused": share([s.abstained for s in unans]),
            "answerable_refused": share([s.abstained for s in ans]),
            "auc": refusal_auc(scored),
            "auc_within_groups": refusal_auc_within(scored),
        },
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "max": max(latencies, default=math.nan),
            "mean": mean(latencies),
        },
    }
    if wall_s is not None:
        out["wall_s"] = wall_s
        out["qps"] = len(scored) / wall_s if wall_s > 0 else math.nan
    return _tidy(out)


def _tidy(obj):
    if isinstance(obj, dict):
        return {k: _tidy(v) for k, v in obj.items()}
    if isinstance(obj, float):
        return _clean(obj)
    return obj


def summarize_by_type(scored: Sequence[Scored]) -> dict[str, dict]:
    groups = {t: [s for s in scored if s.qtype == t] for t in QUESTION_TYPES}
    return {t: summarize(group) for t, group in groups.items() if group}
