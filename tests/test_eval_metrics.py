"""The metric functions against values worked out by hand, including the SQuAD
normalisation edge cases."""

import math

import numpy as np
import pytest

from eval.metrics import (
    best_em,
    best_f1,
    contains_answer,
    covers,
    doc_rank,
    exact_match,
    f1,
    mrr,
    normalize_answer,
    percentile,
    recall_at,
)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Walt Disney Company", "walt disney company"),  # article and case
        ("  a   cat\tand\nan owl ", "cat and owl"),  # whitespace and several articles
        ("Theatre, an Anthem!", "theatre anthem"),  # "the"/"an" inside a word stay
        ("U.S.A.", "usa"),  # punctuation goes without leaving a space
        ("rock-'n'-roll", "rocknroll"),
        ("1,500", "1500"),
        ("the", ""),
        ("", ""),
        ("Disney–ABC", "disney–abc"),  # the en dash is not ASCII punctuation
    ],
)
def test_normalize_answer(text, normalized):
    assert normalize_answer(text) == normalized


def test_exact_match_ignores_case_articles_and_punctuation():
    assert exact_match("the Denver Broncos.", "Denver Broncos") == 1.0
    assert exact_match("Denver", "Denver Broncos") == 0.0


def test_f1_by_hand():
    # prediction tokens: denver broncos won; gold: denver broncos -> P 2/3, R 1, F1 0.8
    assert f1("Denver Broncos won", "the Denver Broncos") == pytest.approx(0.8)
    # repeated tokens count as often as they occur in both: common {a: 0}, {b: 1}
    # prediction "b b c" vs gold "b d": same 1 -> P 1/3, R 1/2, F1 0.4
    assert f1("b b c", "b d") == pytest.approx(0.4)
    assert f1("Santa Clara", "Levi's Stadium") == 0.0


def test_max_over_gold_answers():
    golds = ["Denver Broncos", "Broncos", "the Broncos of Denver"]
    assert best_em("broncos", golds) == 1.0
    # against "the Broncos of Denver": tokens broncos of denver; prediction denver broncos
    # -> P 1, R 2/3, F1 0.8; against "Denver Broncos": EM 0, F1 1
    assert best_f1("Broncos Denver", golds) == 1.0
    assert best_em("Broncos Denver", golds) == 0.0


def test_empty_prediction_scores_zero_on_answerable_questions():
    assert best_em(None, ["Paris"]) == 0.0
    assert best_f1("", ["Paris"]) == 0.0
    # a gold answer that normalises to nothing cannot be matched by anything
    assert f1("", "the") == 0.0


def test_unanswerable_questions_are_right_only_when_refused():
    assert best_em(None, []) == 1.0
    assert best_f1("", []) == 1.0
    assert best_em("Paris", []) == 0.0
    assert best_f1("Paris", []) == 0.0


def test_contains_answer_matches_whole_tokens_after_normalisation():
    sentence = "In all, more than eight million rounds were shipped since 739 AD."
    assert contains_answer(sentence, ["Eight Million"])
    assert contains_answer(sentence, ["nothing", "the 739 AD"])
    assert not contains_answer(sentence, ["39"])
    assert not contains_answer(sentence, [])


def test_covers_needs_half_of_the_target():
    evidence = (100, 200)
    assert covers((90, 210), evidence)
    assert covers((100, 150), evidence)
    assert not covers((100, 149), evidence)
    assert not covers((300, 400), evidence)
    assert not covers((0, 10), (5, 5))


def test_doc_rank_counts_each_document_once():
    ranked = ["a", "a", "b", "a", "c"]
    assert doc_rank(ranked, "a") == 1
    assert doc_rank(ranked, "b") == 2
    assert doc_rank(ranked, "c") == 3
    assert doc_rank(ranked, "z") is None
    assert doc_rank([], "a") is None


def test_recall_and_mrr_by_hand():
    ranks = [1, 2, None, 6]
    assert recall_at(ranks, 1) == 0.25
    assert recall_at(ranks, 5) == 0.5
    assert recall_at(ranks, 10) == 0.75
    assert mrr(ranks) == pytest.approx((1 + 1 / 2 + 0 + 1 / 6) / 4)
    assert math.isnan(mrr([]))


@pytest.mark.parametrize("q", [0, 50, 95, 100])
def test_percentile_agrees_with_numpy(q):
    values = [12.0, 3.5, 7.25, 100.0, 42.0, 8.0, 8.0]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
