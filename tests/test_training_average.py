"""Averaging a model trained further with the one it started from (train/average.py): the
weights are the weighted mean, the folder loads and reads, and meta.json and the card say
how it was made; networks of different shapes and shares outside (0, 1) are refused."""

import json
import shutil

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from qa.errors import TrainedModelError
from qa.read.cross import MODEL_DIR, WEIGHTS, CrossModel
from train import average


@pytest.fixture()
def trained(tmp_path):
    """The shipped model with its relevance head moved, as a further training would."""
    folder = tmp_path / "trained"
    shutil.copytree(MODEL_DIR, folder)
    weights = load_file(str(folder / WEIGHTS))
    head = next(k for k in weights if k.startswith("relevance") and k.endswith("bias"))
    weights[head] = weights[head] + 2.0
    save_file(weights, str(folder / WEIGHTS))
    return folder, head


def test_the_mean_of_the_weights_loads_reads_and_says_how_it_was_made(tmp_path, trained):
    folder, head = trained
    out = tmp_path / "averaged"
    record = average.main([str(MODEL_DIR), str(folder), "--out", str(out), "--weight", "0.25"])
    start, moved, mean = (load_file(str(p / WEIGHTS)) for p in (MODEL_DIR, folder, out))
    expected = 0.75 * start[head].float() + 0.25 * moved[head].float()
    assert np.allclose(mean[head].float(), expected, atol=1e-2)
    other = next(k for k in mean if k != head)
    assert np.array_equal(mean[other].float(), start[other].float())  # equal in both
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["averaged"] == record and record["weight_of_trained"] == 0.25
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "The weights are 0.25 of the trained model's and 0.75 of" in card
    # the held-out figures were copied, and the card does not claim otherwise
    assert "the held-out figures above are the trained model's, before averaging" in card
    question, sentences = "How many troops were shipped?", ["It shipped 1,500 troops."]
    scores = [CrossModel(p).score(question, sentences)[0].relevance for p in (MODEL_DIR, out)]
    assert scores[1] == pytest.approx(scores[0] + 0.5, abs=0.05)


def test_other_networks_and_shares_outside_0_1_are_refused(tmp_path, trained):
    folder, _ = trained
    weights = load_file(str(folder / WEIGHTS))
    weights.pop(next(k for k in weights if ".layer.5." in k))
    save_file(weights, str(folder / WEIGHTS))
    with pytest.raises(TrainedModelError, match="not the same network"):
        average.main([str(MODEL_DIR), str(folder), "--out", str(tmp_path / "a")])
    with pytest.raises(SystemExit) as exit_:
        average.main([str(MODEL_DIR), str(folder), "--out", str(tmp_path / "b"), "--weight", "1"])
    assert exit_.value.code == 2
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
