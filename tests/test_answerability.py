"""The answerability fine-tuning command, in smoke mode: a few paragraphs of SQuAD 1.1
train, the shipped model to start from, a stop half-way and a resume with the same command."""

import gzip
import json

import pytest

from qa.read.cross import MODEL_DIR, CrossModel
from tests.conftest import SHARED
from train import answerability
from train.checkpoint import CHECKPOINT

SQUAD11 = SHARED / "data/squad11-train/squad11_train_paragraphs.jsonl.gz"
SQUAD20 = SHARED / "data/squad20-train-first10/train-v2.0-first10articles.json"


@pytest.fixture()
def small_squad(tmp_path):
    """Four paragraphs of each of the first three articles, one of them held out."""
    kept, seen = [], {}
    with gzip.open(SQUAD11, "rt", encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            seen[p["title"]] = seen.get(p["title"], 0) + 1
            if seen[p["title"]] <= 4:
                kept.append(line)
            if len(seen) > 3:
                break
    path = tmp_path / "small.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(kept[:12])
    return path


@pytest.mark.slow
@pytest.mark.skipif(not SQUAD11.exists(), reason="the shared SQuAD 1.1 train file is not here")
def test_fine_tuning_stops_resumes_and_writes_a_model_that_loads(small_squad, tmp_path, capsys):
    out = tmp_path / "model"
    argv = ["--squad", str(small_squad), "--from", str(MODEL_DIR), "--out", str(out),
            "--questions", "24", "--batch", "8", "--threads", "1"]  # fmt: skip
    with pytest.raises(answerability.Interrupted):
        answerability.main([*argv, "--stop-after", "2"])
    assert (out / CHECKPOINT).is_file()
    answerability.main(argv)
    printed = capsys.readouterr().out
    assert "resumed at step 2 of" in printed
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    made = meta["answerability"]
    assert made["pairs"] > 24 and sum(made["look_alikes"].values()) > 0
    assert made["held_out_articles"] == []
    looks = [json.loads(line) for line in (out / "look_alikes.jsonl").open(encoding="utf-8")]
    assert looks and all(r["look_alike"] != r["original"] for r in looks)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Fine-tuned to tell answers from look-alikes" in card and str(made["pairs"]) in card
    model = CrossModel(out)
    [scored] = model.score("How many people died?", ["The quake killed 69,197 people."])
    assert isinstance(scored.relevance, float)


def test_held_out_articles_are_the_squad2_files(tmp_path):
    if not SQUAD20.exists():
        pytest.skip("the shared SQuAD 2.0 file is not here")
    titles = answerability.held_out_titles(SQUAD20)
    assert len(titles) == 10 and "Spectre_(2015_film)" in titles
    paragraphs = answerability.load_paragraphs(SQUAD11, titles)
    assert not titles & {p["title"] for p in paragraphs}
