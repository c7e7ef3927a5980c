"""Fit the sentence-evidence model (qa/weights/evidence.json) on a Q&A set.

    python -m train.fit_evidence --qa ../shared/data/squad11-dev13/qa.jsonl \\
        --index-dir runs/dev13/index --out qa/weights/evidence.json

Index the Q&A set's documents first (``qa index DOCS --index-dir DIR``, or any eval run,
which leaves its index in ``OUT/index``). For every answerable question, the sentences of
the retrieved passages are described by ``qa.read.rankers.heuristic.FEATURES`` and labelled
by whether they hold a gold answer; a logistic regression is fitted on them. Before the final fit on
all questions, it fits on half the groups (articles: the part of ``doc`` before "__") and
prints hit@1/@2/@3 on the other half, so the figures are not measured on training data."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from eval.data import QAItem, group_name, load_qa
from index.embed import load_embedder
from index.stores.segments import SegmentStore
from qa.read.linear import write_weights
from qa.read.question import Question
from qa.read.rankers.heuristic import FEATURES, WEIGHTS_FILE, candidate_features
from qa.read.retrieve import HybridRetriever
from qa.threads import set_query_threads


def collect(items: Sequence[QAItem], retriever: HybridRetriever, top_k: int):
    xs, ys, groups, questions = [], [], [], []
    for q, item in enumerate(tqdm(items, desc="features", unit="q", disable=None)):
        retrieval = retriever.retrieve(item.question, top_k)
        sentences, _, x = candidate_features(Question.of(item.question), retrieval)
        labels = [any(a in s.text for a in item.answers) for s in sentences]
        xs.append(x)
        ys += labels
        groups += [group_name(item.doc)] * len(sentences)
        questions += [q] * len(sentences)
    return np.concatenate(xs), np.array(ys), np.array(groups), np.array(questions)


def hits(score: np.ndarray, y: np.ndarray, questions: np.ndarray, mask: np.ndarray) -> dict:
    found = {1: 0, 2: 0, 3: 0}
    qs = np.unique(questions[mask])
    for q in qs:
        m = mask & (questions == q)
        order = np.argsort(-score[m])
        for k in found:
            found[k] += bool(y[m][order[:k]].any())
    return {f"hit@{k}": round(v / max(len(qs), 1), 4) for k, v in found.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help=f"e.g. {WEIGHTS_FILE}")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    args = parser.parse_args(argv)

    items = [i for i in load_qa(args.qa).items if i.answers]
    set_query_threads(1)
    embedder = load_embedder()
    retriever = HybridRetriever(SegmentStore(args.index_dir, embedder.name), embedder)
    x, y, groups, questions = collect(items, retriever, args.top_k)

    names = sorted(set(groups))
    heldout: dict = {}
    if len(names) > 1:
        held = np.isin(groups, names[::2])
        half = LogisticRegression(C=args.C, max_iter=5000).fit(x[~held], y[~held])
        heldout = hits(half.decision_function(x), y, questions, held)
        print(f"fitted on {len(names) - len(names[::2])} groups, measured on the others: {heldout}")
    else:
        print("one group only: no held-out figures")

    model = LogisticRegression(C=args.C, max_iter=5000).fit(x, y)
    everything = hits(model.decision_function(x), y, questions, np.ones(len(y), bool))
    print(f"fitted and measured on all {len(items)} questions: {everything}")
    write_weights(
        args.out,
        FEATURES,
        model.coef_[0],
        model.intercept_[0],
        fitted_on=f"{args.qa.name}: {len(items)} answerable questions, top_k={args.top_k}",
        heldout_groups=heldout,
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
