"""Training on SQuAD 2.0's real unanswerable questions: the collection holds each with its
answerable twin and the sentence it looks answered by, keeps calibration articles apart
(never trained on), and train_cross learns from them and fits its refusals on those."""

import json
import random

import pytest

from eval.data import load_qa
from tests.conftest import SHARED
from train import squad_collection, train_cross
from train.train_cross import batches

SQUAD11 = SHARED / "data" / "squad11-train" / "squad11_train_paragraphs.jsonl.gz"
UNANSWERABLE = (
    SHARED
    / "data"
    / "squad20-train-unanswerable-unansq"
    / "squad20_train_unanswerable_unansq.json.gz"
)
FIRST10 = SHARED / "data" / "squad20-train-first10" / "train-v2.0-first10articles.json"


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    if not (SQUAD11.is_file() and UNANSWERABLE.is_file() and FIRST10.is_file()):
        pytest.skip(f"no SQuAD training data under {SHARED / 'data'}")
    out = tmp_path_factory.mktemp("unanswerable")
    squad_collection.main(
        [str(SQUAD11), "--hold-out", str(FIRST10), "--paragraphs", "0", "--questions", "0",
         "--unanswerable", str(UNANSWERABLE), "--unanswerable-questions", "60",
         "--calibration-articles", "2", "--out", str(out)]
    )  # fmt: skip
    return out


def test_each_unanswerable_question_comes_with_its_twin_and_the_sentence_it_looks_answered_by(
    collection,
):
    items = load_qa(collection / "qa.jsonl").items
    by_id = {i.id: i for i in items}
    unanswerable = [i for i in items if not i.answers]
    assert len(unanswerable) == 60
    for item in unanswerable:
        twin = by_id[item.paired]
        assert twin.answers and twin.doc == item.doc and twin.question != item.question
        text = (collection / "docs" / item.doc).read_text(encoding="utf-8")
        assert item.evidence and item.evidence in text  # a whole sentence of its paragraph
    # the twin's answer is what a careless reader would give: it lies in that sentence
    assert sum(by_id[i.paired].answers[0] in i.evidence for i in unanswerable) >= 55


def test_calibration_articles_are_apart_from_the_training_questions_and_the_measured_ones(
    collection,
):
    article = lambda item: item.doc.split("__")[0]
    trained = {article(i) for i in load_qa(collection / "qa.jsonl").items}
    calibration = load_qa(collection / "calibration.jsonl").items
    assert {article(i) for i in calibration}.isdisjoint(trained)
    assert len({article(i) for i in calibration}) == 2
    assert any(not i.answers for i in calibration) and any(i.answers for i in calibration)
    measured = {a["title"] for a in json.loads(FIRST10.read_text(encoding="utf-8"))["data"]}
    assert measured.isdisjoint(trained | {article(i) for i in calibration})


def test_an_unanswerable_question_and_its_twin_share_a_batch():
    examples = [{"question": q, "input_ids": [0] * (5 + q)} for q in range(40)]
    for q in range(20, 40):
        examples[q]["bundle"] = q - 20  # question q is the twin of question q - 20
    for batch in batches(examples, 4, random.Random(0)):
        asked = {e["question"] for e in batch}
        assert all((q + 20 in asked) == (q in asked) for q in range(20))


@pytest.mark.slow
def test_training_learns_from_them_and_fits_refusals_on_the_calibration_articles(
    collection, tmp_path, embedder
):
    out = tmp_path / "trained"
    train_cross.main(
        ["--qa", str(collection / "qa.jsonl"), "--docs", str(collection / "docs"),
         "--index-dir", str(tmp_path / "index"), "--out", str(out), "--layers", "1",
         "--epochs", "1", "--batch", "16", "--synthetic", "0",
         "--calibration-qa", str(collection / "calibration.jsonl"),
         "--answerable-refused", "0.1"]
    )  # fmt: skip
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    trained_on = meta["trained_on"]
    assert 0 < trained_on["unanswerable_questions"] <= 60
    assert trained_on["pairs"] > trained_on["positives"] > 0
    assert meta["refusals"]["fitted_on"].startswith("calibration.jsonl")
    assert 0.0 < meta["refusals"]["below"] < 1.0
