"""Fit the short-answer reader (qa/weights/reader.json) on a Q&A set's evidence sentences.

    python -m train.fit_reader --qa ../shared/data/squad11-dev13/qa.jsonl --out qa/weights/reader.json

For every answerable question with an evidence sentence, the reader's candidate spans are
described by ``qa.read.readers.phrases.FEATURES`` and labelled by their F1 against the gold
answers (a candidate with F1 >= 0.5 is a positive); a logistic regression is fitted on them. Before
the final fit on everything, it fits on half the groups (articles: the part of ``doc``
before "__") and prints the F1 of the chosen span on the other half, beside the pattern
heuristic of qa/read/patterns.py on the same sentences."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from eval.data import group_name, load_qa
from eval.metrics import best_f1
from qa.read.linear import write_weights
from qa.read.patterns import short_answer
from qa.read.question import Question
from qa.read.readers.phrases import FEATURES, WEIGHTS_FILE, features, phrases


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help=f"e.g. {WEIGHTS_FILE}")
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    args = parser.parse_args(argv)

    items = [i for i in load_qa(args.qa).items if i.answers and i.evidence]
    xs, f1s, groups, owners, texts = [], [], [], [], []
    heuristic = []
    for q, item in enumerate(tqdm(items, desc="candidates", unit="q", disable=None)):
        sentence = item.evidence
        question = Question.of(item.question)
        candidates = phrases(sentence)
        found = short_answer(question, sentence)
        heuristic.append(best_f1(sentence[found[0] : found[1]] if found else None, item.answers))
        if not candidates:
            continue
        xs.append(features(question, sentence, candidates))
        for c in candidates:
            f1s.append(best_f1(sentence[c.start : c.end], item.answers))
            groups.append(group_name(item.doc))
            owners.append(q)
            texts.append(sentence[c.start : c.end])
    x = np.concatenate(xs)
    f1 = np.array(f1s)
    y = f1 >= 0.5
    groups_a = np.array(groups)
    owners_a = np.array(owners)
    heuristic_a = np.array(heuristic)

    def chosen_f1(score: np.ndarray, mask: np.ndarray) -> float:
        qs = np.unique(owners_a[mask])
        got = []
        for q in qs:
            m = mask & (owners_a == q)
            got.append(f1[m][int(np.argmax(score[m]))])
        # questions without any candidate score 0
        return float(np.sum(got) / len(qs)) if len(qs) else 0.0

    names = sorted(set(groups))
    held_names = set(names[::2]) if len(names) > 1 else set()
    held = np.isin(groups_a, list(held_names))
    if not held_names:
        # one group only: measure on what it was fitted on, and say so
        held = np.ones(len(y), bool)
        held_names = set(names)
        print("one group only: the figures below are measured on the training data")
    train = ~held if (~held).any() else held
    half = LogisticRegression(C=args.C, max_iter=5000).fit(x[train], y[train])
    held_items = [q for q, i in enumerate(items) if group_name(i.doc) in held_names]
    reader_f1 = chosen_f1(half.decision_function(x), held)
    pattern_f1 = float(heuristic_a[held_items].mean()) if held_items else 0.0
    ceiling = float(np.mean([f1[held & (owners_a == q)].max() for q in np.unique(owners_a[held])]))
    print(
        f"held-out groups ({len(held_names)} of {len(names)}), gold evidence sentence given: "
        f"reader F1 {reader_f1:.3f}, pattern heuristic F1 {pattern_f1:.3f}, "
        f"best candidate (ceiling) {ceiling:.3f}"
    )
    model = LogisticRegression(C=args.C, max_iter=5000).fit(x, y)
    write_weights(
        args.out,
        FEATURES,
        model.coef_[0],
        model.intercept_[0],
        fitted_on=f"{args.qa.name}: evidence sentences of {len(items)} questions",
        heldout_groups={
            "reader_f1": round(reader_f1, 4),
            "pattern_f1": round(pattern_f1, 4),
            "ceiling_f1": round(ceiling, 4),
        },
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
