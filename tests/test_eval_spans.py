"""eval.spans: the reader's and the verifier's span of the same best sentence, scored."""

from pathlib import Path

from eval.spans import read_both, summary

SEED_QA = Path(__file__).resolve().parent.parent / "eval" / "seed_qa.jsonl"


def test_both_spans_of_the_best_sentence_are_scored(seed_index_dir, capsys):
    rows = read_both(SEED_QA, seed_index_dir, limit=6)
    assert rows and all(0.0 <= r["reader"] <= 1.0 and 0.0 <= r["verifier"] <= 1.0 for r in rows)
    figures = summary(rows)
    best = figures["better of the two"]
    assert max(figures["reader"], figures["verifier"], figures["higher score"]) <= best <= 100.0


def test_the_better_of_two_is_a_ceiling_and_a_margin_chooses_between_them():
    rows = [
        {"reader": 1.0, "verifier": 0.0, "reader_score": 9.0, "verifier_score": 3.0},
        {"reader": 0.0, "verifier": 1.0, "reader_score": 4.0, "verifier_score": 3.0},
    ]
    figures = summary(rows)
    assert figures["reader"] == figures["verifier"] == 50.0
    assert figures["higher score"] == 50.0  # the reader's score leads in both
    assert figures["reader when it leads by 2"] == 100.0  # only the first leads by more
    assert figures["reader when it leads by 8"] == 50.0
    assert figures["better of the two"] == 100.0
