"""Refitting a trained model's refusal model: the threshold fitted with it is the one the
service uses, the QA_ABSTAIN_BELOW setting overrides it, and the model's card says how it
was refitted."""

import json
import shutil

import pytest

from eval.collection import ensure_index, load_documents
from eval.data import load_qa
from qa.engine import Engine
from qa.read.abstain import DEFAULT_BELOW, LogisticAbstainer
from qa.read.cross import MODEL_DIR
from qa.settings import Settings
from tests.test_injection import DEV13_DOCS
from train import fit_abstain, train_cross

ARTICLES = ("Kenya", "United_Methodist_Church")
PARAGRAPHS = 15  # the first of each article


def taken(doc: str) -> bool:
    article, _, paragraph = doc.removesuffix(".txt").partition("__p")
    return article in ARTICLES and int(paragraph) < PARAGRAPHS


@pytest.fixture(scope="module")
def dev13_part(tmp_path_factory, embedder):
    """Paragraphs of two dev13 articles, their questions, and their index."""
    if not DEV13_DOCS.is_dir():
        pytest.skip(f"no SQuAD dev13 documents at {DEV13_DOCS}")
    root = tmp_path_factory.mktemp("dev13-part")
    (root / "docs").mkdir()
    for doc in DEV13_DOCS.iterdir():
        if taken(doc.name):
            shutil.copy(doc, root / "docs" / doc.name)
    with (root / "qa.jsonl").open("w", encoding="utf-8") as f:
        for line in (DEV13_DOCS.parent / "qa.jsonl").read_text(encoding="utf-8").splitlines():
            if taken(json.loads(line)["doc"]):
                f.write(line + "\n")
    ensure_index(load_documents(root / "docs"), root / "index", embedder, Settings().chunking)
    return root


@pytest.mark.slow
def test_a_refit_writes_its_threshold_the_service_uses_and_the_card_says_so(
    dev13_part, tmp_path, embedder
):
    model = tmp_path / "model"
    shutil.copytree(MODEL_DIR, model)
    weights = json.loads((model / "abstain.json").read_text(encoding="utf-8"))
    weights.pop("below", None)  # fitted without a threshold: the default one
    (model / "abstain.json").write_text(json.dumps(weights), encoding="utf-8")
    assert LogisticAbstainer(model / "abstain.json").below == DEFAULT_BELOW
    argv = [
        "--qa", str(dev13_part / "qa.jsonl"),
        "--docs", str(dev13_part / "docs"),
        "--index-dir", str(dev13_part / "index"),
        "--trained-model", str(model),
        "--answerable-refused", "0.08",
        "--out", str(model / "abstain.json"),
    ]  # fmt: skip
    record = fit_abstain.main(argv)
    asked = len(load_qa(dev13_part / "qa.jsonl").items)
    assert asked > 50 and "made unanswerable" in record["fitted_on"]
    below = json.loads((model / "abstain.json").read_text(encoding="utf-8"))["below"]
    assert below == record["below"] and 0.0 < below < 1.0 and below != DEFAULT_BELOW

    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    assert meta["refusals"]["below"] == below
    assert "--answerable-refused 0.08" in meta["refusals"]["command"]
    card = (model / "README.md").read_text(encoding="utf-8")
    assert f"the service refuses below {below}, the threshold fitted with it" in card

    settings = Settings(index_dir=dev13_part / "index", trained_model_dir=model)
    assert Engine(settings, embedder).backend.abstainer.below == below
    pinned = settings.model_copy(update={"abstain_below": 0.5})
    assert Engine(pinned, embedder).backend.abstainer.below == 0.5


@pytest.mark.slow
def test_training_fits_the_refusal_model_as_part_of_the_model(dev13_part, tmp_path):
    # train_cross fits the new model's refusal model on its held-out questions and records
    # it in meta.json and the card itself, beside the held-out figures
    out = tmp_path / "trained"
    train_cross.main(
        ["--qa", str(dev13_part / "qa.jsonl"), "--docs", str(dev13_part / "docs"),
         "--index-dir", str(dev13_part / "index"), "--out", str(out), "--layers", "1",
         "--epochs", "1", "--batch", "16", "--synthetic", "0", "--hold-out-every", "2"]
    )  # fmt: skip
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert 0.0 <= meta["heldout"]["evidence_hit@1_reranked"] <= 1.0
    assert "made unanswerable" in meta["refusals"]["fitted_on"]
    assert "command" not in meta["refusals"]  # fitted on a temporary file, not to be rerun
    assert LogisticAbstainer(out / "abstain.json").below == DEFAULT_BELOW
    card = (out / "README.md").read_text(encoding="utf-8")
    assert str(meta["heldout"]["evidence_hit@1_reranked"]) in card


def test_each_kind_of_unanswerable_question_weighs_the_same_in_the_fit():
    kinds = ["answerable"] * 60 + ["as asked"] * 30 + ["left out"] * 10
    w = fit_abstain.kind_weights(kinds)
    total = lambda kind: sum(x for x, k in zip(w, kinds) if k == kind)
    assert total("answerable") == pytest.approx(50.0)
    assert total("as asked") == pytest.approx(total("left out")) == pytest.approx(25.0)
    # one kind alone: the class-balanced weights of before
    w = fit_abstain.kind_weights(["answerable"] * 3 + ["left out"])
    assert list(w) == pytest.approx([4 / 6] * 3 + [2.0])
