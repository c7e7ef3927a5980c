"""How well refusals separate: ROC AUC of the evidence score, the coverage curve, and the
SQuAD 2.0 collection with real unanswerable questions."""

import json
import math

import pytest
from sklearn.metrics import roc_auc_score

from eval.data import QAItem
from eval.scoring import coverage_curve, refusal_auc, refusal_auc_within, score, summarize
from eval.squad2 import write_collection
from tests.conftest import SHARED

SQUAD20 = SHARED / "data/squad20-train-first10/train-v2.0-first10articles.json"


def scored(qid, answers, prediction, evidence_score, threshold=0.3, doc="a.txt"):
    item = QAItem(qid, "Who founded the club?", tuple(answers), doc, "")
    refused = evidence_score < threshold
    response = {
        "answer": None if refused else prediction,
        "abstained": refused,
        "citations": [],
        "passages": [],
        "evidence_score": evidence_score,
    }
    return score(item, response, 1.0)


def test_auc_is_the_rank_statistic_of_the_evidence_score():
    rows = [
        scored("a1", ["Ann"], "Ann", 0.9),
        scored("a2", ["Ann"], "Bob", 0.6),
        scored("a3", ["Ann"], None, 0.2),
        scored("u1", [], "Ann", 0.7),
        scored("u2", [], None, 0.1),
    ]
    expected = roc_auc_score([1, 1, 1, 0, 0], [0.9, 0.6, 0.2, 0.7, 0.1])
    assert refusal_auc(rows) == pytest.approx(expected)
    assert summarize(rows)["refusals"]["auc"] == pytest.approx(expected, abs=1e-4)
    perfect = [scored("a", ["Ann"], "Ann", 0.9), scored("u", [], None, 0.1)]
    assert refusal_auc(perfect) == 1.0
    assert math.isnan(refusal_auc(perfect[:1]))  # one kind only: undefined


def test_auc_within_articles_compares_questions_of_the_same_article_only():
    # article B's questions all score low, answerable or not; A has no unanswerable one
    rows = [
        scored("a1", ["Ann"], "Ann", 0.9, doc="A__p0.txt"),
        scored("a2", ["Ann"], "Ann", 0.8, doc="A__p1.txt"),
        scored("b1", ["Ann"], "Ann", 0.4, doc="B__p0.txt"),
        scored("b2", ["Ann"], "Ann", 0.2, doc="B__p1.txt"),
        scored("b3", ["Ann"], "Ann", 0.3, doc="B__p1.txt"),
        scored("u1", [], None, 0.3, doc="B__p2.txt"),
        scored("u2", [], None, 0.1, doc="B__p0.txt"),
    ]
    # overall, the low scores of B's answerable questions are hidden by A's high ones
    assert refusal_auc(rows) == pytest.approx(
        roc_auc_score([1] * 5 + [0] * 2, [0.9, 0.8, 0.4, 0.2, 0.3, 0.3, 0.1])
    )
    # within B: u1 (0.3) is below 0.4, above 0.2, tied with 0.3; u2 below all three
    assert refusal_auc_within(rows) == pytest.approx((1 + 0 + 0.5 + 3) / 6)
    assert summarize(rows)["refusals"]["auc_within_groups"] == pytest.approx(4.5 / 6, abs=1e-4)
    assert math.isnan(refusal_auc_within(rows[:5]))  # no group holds both kinds


def test_coverage_curve_runs_from_the_surest_answer_to_the_run_itself():
    rows = [
        scored("a1", ["Ann"], "Ann", 0.9),
        scored("u1", [], "Ann", 0.8),
        scored("a2", ["Ann"], "Ann", 0.5),
        scored("a3", ["Ann"], None, 0.1),
    ]
    curve = coverage_curve(rows)
    assert curve[0] == (0.9, 0.25, 1.0)  # the surest alone: right
    assert curve[1] == (0.8, 0.5, 0.5)  # an unanswerable question answered scores 0
    assert curve[-1] == (0.5, 0.75, pytest.approx(2 / 3))  # the run: 3 of 4 answered
    assert coverage_curve([]) == []


@pytest.mark.skipif(not SQUAD20.exists(), reason="the shared SQuAD 2.0 file is not here")
def test_squad2_collection_keeps_the_real_unanswerable_questions(tmp_path):
    documents, questions, unanswerable = write_collection(SQUAD20, tmp_path)
    assert (documents, questions, unanswerable) == (694, 4719, 348)
    rows = [json.loads(line) for line in (tmp_path / "qa.jsonl").open(encoding="utf-8")]
    docs = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "docs").iterdir()}
    assert len(docs) == 694 and all(r["doc"] in docs for r in rows)
    answerable = [r for r in rows if r["answers"]]
    # the evidence is a sentence of the document holding the answer
    assert all(r["evidence"] in docs[r["doc"]] for r in answerable)
    held = sum(any(a in r["evidence"] for a in r["answers"]) for r in answerable)
    assert held / len(answerable) > 0.97
    assert all(r["evidence"] == "" for r in rows if not r["answers"])
