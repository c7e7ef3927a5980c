"""Scoring responses and adding them up: citations, offsets, refusal accounting."""

import pytest

from eval.data import QAItem
from eval.scoring import score, summarize, summarize_by_type

DOC = "Title\n\nAnn founded the club in 1901. It had ten members. Bob left in 1910."
EVIDENCE = "Ann founded the club in 1901."
TEXTS = {"a.txt": DOC, "b.txt": "Another document. Nothing about clubs here."}


def cite(n, doc_id, text, start=None):
    source = TEXTS[doc_id]
    start = source.index(text) if start is None else start
    return {
        "n": n,
        "doc_id": doc_id,
        "start": start,
        "end": start + len(text),
        "text": text,
        "score": 1.0,
    }


def response(answer, citations=(), passages=("a.txt",), abstained=False):
    return {
        "answer": answer,
        "abstained": abstained,
        "text": "",
        "citations": list(citations),
        "passages": [
            {"doc_id": d, "start": 0, "end": 1, "text": "", "score": 0.0} for d in passages
        ],
        "timings_ms": {"total": 5.0},
    }


def item(qid="q", question="Who founded the club?", answers=("Ann",)):
    return QAItem(qid, question, tuple(answers), "a.txt", EVIDENCE if answers else "")


def test_citation_support_by_answer_or_by_covering_the_evidence():
    r = response(
        "Ann",
        [
            cite(1, "a.txt", "It had ten members."),  # neither
            cite(2, "a.txt", "Ann founded"),  # 11/29 of the evidence, no answer
            cite(3, "a.txt", "founded the club in 1901."),  # covers 25/29 of the evidence
        ],
    )
    s = score(item(question="When was the club founded?", answers=["1901"]), r, 3.0, TEXTS)
    assert [c.supports for c in s.citations] == [False, False, True]
    assert not s.evidence_hit1 and s.evidence_hitk
    assert s.em == 0.0 and s.gold_rank == 1
    assert all(c.offsets_ok for c in s.citations)


def test_bad_offsets_are_counted_and_unknown_documents_left_unchecked():
    # the shifted citation overlaps most of the evidence sentence, but its offsets are
    # wrong, so only its text could make it support the answer
    shifted = cite(1, "a.txt", "It had ten members.", start=3)
    unknown = {"n": 2, "doc_id": "gone.txt", "start": 0, "end": 3, "text": "Ann", "score": 0.5}
    s = score(item(), response("Ann", [shifted, unknown]), 1.0, TEXTS)
    assert [c.offsets_ok for c in s.citations] == [False, None]
    m = summarize([s])
    assert m["citations"] == {"count": 2, "precision": 0.5, "bad_offsets": 1, "checked": 1}


def test_without_doc_texts_offsets_are_not_checked():
    s = score(item(), response("Ann", [cite(1, "a.txt", EVIDENCE)]), 1.0, None)
    assert s.citations[0].offsets_ok is None and s.evidence_hit1


def test_refusal_accounting():
    scored = [
        score(item("a1"), response("Ann"), 1.0),  # answerable, answered right
        score(item("a2"), response(None, abstained=True), 1.0),  # answerable, refused
        score(item("a3"), response("Bob"), 1.0),  # answerable, answered wrong
        score(item("a4"), response("Ann", abstained=True), 1.0),  # refused: answer ignored
        score(item("u1", answers=[]), response(None, abstained=True), 1.0),  # refused, right
        score(item("u2", answers=[]), response("Bob"), 1.0),  # answered, wrong
        score(item("u3", answers=[]), response(None, abstained=True), 1.0),
    ]
    m = summarize(scored, wall_s=2.0)
    assert (m["answerable"], m["unanswerable"]) == (4, 3)
    assert m["refusals"]["answerable_refused"] == 0.5
    assert m["refusals"]["unanswerable_refused"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["answer"]["em"] == 0.25  # only a1 of the four answerable
    assert m["answer"]["with_refusals_em"] == pytest.approx(3 / 7, abs=1e-4)  # a1, u1, u3
    assert m["qps"] == 3.5
    assert scored[3].prediction is None


def test_errors_score_as_wrong_and_stay_out_of_latency():
    ok = score(item("a1"), response("Ann"), 10.0)
    failed = score(item("a2"), None, 5000.0, error="HTTP 500: boom")
    m = summarize([ok, failed])
    assert m["errors"] == 1
    assert m["answer"]["em"] == 0.5
    assert m["latency_ms"]["max"] == 10.0
    assert failed.gold_rank is None and failed.citations == []


def test_by_type_groups_add_up():
    scored = [
        score(item("w", "Who founded it?"), response("Ann"), 1.0),
        score(item("n", "How many members?", ["ten"]), response("ten"), 1.0),
        score(item("h", "How many left?", ["one"]), response("two"), 1.0),
    ]
    by_type = summarize_by_type(scored)
    assert set(by_type) == {"who", "how many/much"}
    assert sum(m["questions"] for m in by_type.values()) == len(scored)
    assert by_type["how many/much"]["answer"]["em"] == 0.5
