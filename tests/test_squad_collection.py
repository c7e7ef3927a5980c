"""SQuAD 1.1 train as a training collection: paragraphs from every article but the held-out
ones, questions whose evidence sentence holds their answer, the same every run."""

import json
import sys

import pytest

from tests.conftest import SHARED
from train import squad_collection
from train.answerability import held_out_titles

SQUAD11 = SHARED / "data/squad11-train/squad11_train_paragraphs.jsonl.gz"
SQUAD20 = SHARED / "data/squad20-train-first10/train-v2.0-first10articles.json"


def build(out, monkeypatch):
    argv = ["squad_collection", str(SQUAD11), "--hold-out", str(SQUAD20),
            "--paragraphs", "1", "--questions", "60", "--out", str(out)]  # fmt: skip
    monkeypatch.setattr(sys, "argv", argv)
    squad_collection.main()
    return [json.loads(line) for line in (out / "qa.jsonl").open(encoding="utf-8")]


@pytest.mark.skipif(not SQUAD11.exists(), reason="the shared SQuAD 1.1 train file is not here")
def test_collection_draws_from_every_article_but_the_held_out(tmp_path, monkeypatch):
    rows = build(tmp_path / "a", monkeypatch)
    docs = sorted(p.name for p in (tmp_path / "a" / "docs").iterdir())
    titles = {d.split("__")[0] for d in docs}
    assert len(docs) == len(titles) == 442 - 10  # one paragraph of each kept article
    assert not titles & held_out_titles(SQUAD20)
    assert len(rows) == 60 and len({r["id"] for r in rows}) == 60
    for r in rows:
        text = (tmp_path / "a" / "docs" / r["doc"]).read_text(encoding="utf-8")
        assert r["evidence"] in text and r["answers"][0] in text
    held = sum(r["answers"][0] in r["evidence"] for r in rows)
    assert held >= 55  # a few answers cross a sentence boundary
    assert build(tmp_path / "b", monkeypatch) == rows  # fixed seed: the same collection
