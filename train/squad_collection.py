"""SQuAD 1.1 train as a training collection for ``train.train_cross``: paragraphs drawn from
every article (but those held out for measuring) as documents, and a sample of their
questions in the eval format.

    python -m train.squad_collection ../shared/data/squad11-train/squad11_train_paragraphs.jsonl.gz \\
        --hold-out ../shared/data/squad20-train-first10/train-v2.0-first10articles.json \\
        --paragraphs 12 --questions 9000 --out runs/squad11

The variety is the point (issue 13): the same number of paragraphs from each of the 432
articles rather than every paragraph of a few, so the retriever's nominees for a question
are the sibling paragraphs of its own article (the hard negatives) and a few from others.
Documents are named ``Title__p000.txt`` as in squad11-dev13, so the split by article of
``train.train_cross`` works the same way; the evidence of a question is the sentence (as
the index splits it) holding its answer. Fixed seed: the same collection every run."""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import defaultdict
from pathlib import Path

from eval.squad2 import evidence_sentence
from train.answerability import held_out_titles


def sample(paragraphs: list[dict], per_article: int, questions: int, seed: int):
    """(paragraphs kept, questions kept as (paragraph, qa)): ``per_article`` paragraphs of
    each article at random, then ``questions`` of their questions at random."""
    rng = random.Random(seed)
    by_article: dict[str, list[dict]] = defaultdict(list)
    for p in paragraphs:
        by_article[p["title"]].append(p)
    kept = []
    for title in sorted(by_article):
        group = by_article[title]
        kept += rng.sample(group, min(per_article, len(group)))
    asked = [(p, qa) for p in kept for qa in p["qas"]]
    return kept, rng.sample(asked, min(questions, len(asked)))


def write_collection(paragraphs: list[dict], asked, out: Path) -> None:
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    name = lambda p: f"{p['title']}__p{p['para_index']:03d}.txt"
    for p in paragraphs:
        (docs / name(p)).write_text(p["context"], encoding="utf-8")
    with (out / "qa.jsonl").open("w", encoding="utf-8") as f:
        for n, (p, qa) in enumerate(asked):
            row = {
                "id": f"train-{n}",
                "question": qa["question"],
                "answers": [qa["answer"]],
                "doc": name(p),
                "evidence": evidence_sentence(p["context"], qa["answer_start"]),
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m train.squad_collection", description=__doc__.split("\n")[0]
    )
    parser.add_argument("source", type=Path, help="squad11_train_paragraphs.jsonl.gz")
    parser.add_argument(
        "--hold-out", type=Path, help="a SQuAD 2.0 file whose articles to leave out"
    )
    parser.add_argument("--paragraphs", type=int, default=12, help="paragraphs per article")
    parser.add_argument("--questions", type=int, default=9000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="folder for docs/ and qa.jsonl")
    args = parser.parse_args()
    skip = held_out_titles(args.hold_out)
    with gzip.open(args.source, "rt", encoding="utf-8") as f:
        paragraphs = [p for p in map(json.loads, f) if p["title"] not in skip]
    kept, asked = sample(paragraphs, args.paragraphs, args.questions, args.seed)
    write_collection(kept, asked, args.out)
    articles = len({p["title"] for p in kept})
    print(
        f"wrote {len(kept)} paragraphs of {articles} articles and {len(asked)} questions to {args.out}"
    )


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
