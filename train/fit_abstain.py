"""Fit the abstention model on questions made unanswerable: for the trained cross-encoder
(the answerer reads it beside the model, MODEL/abstain.json) or, with --heuristics or when
there is no trained model, for the heuristics (the answerer reads qa/weights/abstain.json).

    python -m train.fit_abstain --qa ../shared/data/squad11-dev13/qa.jsonl \\
        --docs ../shared/data/squad11-dev13/docs --index-dir runs/dev13/index \\
        --out runs/cross/model/abstain.json

As ``python -m eval --unanswerable-share`` does, it leaves out paragraphs whose questions'
answers occur in no other document, indexes the rest (reusing the vectors of
``--index-dir``) and asks every question; each is described by ``qa.read.abstain.FEATURES``
(and the answerability verifier's logit when one is beside the trained model) and labelled answerable or not. A logistic regression, each kind of unanswerable question
weighing the same (``kind_weights``), is fitted on half the
groups (articles: the part of ``doc`` before "__"), and the refusal rates on the other
half are printed for a few thresholds; then it is fitted on everything and written out."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from eval.collection import ensure_index, excluded_index_dir, load_documents
from eval.data import group_name, load_qa
from eval.unanswerable import make_unanswerable
from index.embed import load_embedder
from index.stores.segments import SegmentStore
from qa.read.abstain import DEFAULT_BELOW, FEATURES, VERIFIED
from qa.read.cross import MODEL_DIR
from qa.read.linear import write_weights
from qa.read.pipeline import find
from qa.read.rankers import chosen, ranker
from qa.read.rankers.cross import ABSTAIN_WEIGHTS
from qa.read.readers import reader
from qa.read.retrieve import HybridRetriever
from qa.read.verify import has_verifier, load_verifier
from qa.settings import Settings
from qa.threads import set_query_threads
from train.model_card import write_card
from train.negatives import look_alike_items


def refusals(score: np.ndarray, unanswerable: np.ndarray, mask: np.ndarray, t: float) -> str:
    refused = score < t
    return (
        f"unanswerable refused {refused[mask & unanswerable].mean():.3f}, "
        f"answerable refused {refused[mask & ~unanswerable].mean():.3f}"
    )


def kind_weights(kinds: Sequence[str]) -> np.ndarray:
    """Sample weights giving the answerable questions half the weight and each kind of
    unanswerable one ("as asked", "left out", "look-alike") an equal share of the other half:
    SQuAD 2.0's 1,420 questions as asked would otherwise drown the few hundred whose paragraph
    is left out, and the refusals learn one kind only."""
    counts = Counter(kinds)
    unanswerable = [k for k in counts if k != "answerable"]
    n = len(kinds)
    share = {"answerable": n / 2 / max(counts["answerable"], 1)}
    for k in unanswerable:
        share[k] = n / 2 / len(unanswerable) / counts[k]
    return np.array([share[k] for k in kinds])


def main(argv: Sequence[str] | None = None, record: bool = True) -> dict:
    """Fit and write the model; returns how (the data, the threshold if one was fitted)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, required=True)
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True, help="index of all of --docs")
    parser.add_argument("--share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--trained-model",
        type=Path,
        default=MODEL_DIR,
        help="the trained cross-encoder to fit with (its abstain.json is written)",
    )
    parser.add_argument(
        "--look-alikes",
        type=float,
        default=0.0,
        help="also make this share of the answerable questions unanswerable by a checked edit "
        "of the question (train.negatives), their paragraph kept in the index",
    )
    parser.add_argument(
        "--answerable-refused",
        type=float,
        help="write a threshold with the model: the one that refuses this share of the "
        f"answerable questions fitted on (without it, the service refuses below {DEFAULT_BELOW})",
    )
    parser.add_argument(
        "--heuristics", action="store_true", help="fit for the heuristics alone (no model)"
    )
    parser.add_argument(
        "--no-verifier",
        action="store_true",
        help="fit without the answerability verifier beside the trained model (qa/read/verify.py)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the weights file to write (the answerer reads MODEL/abstain.json, or "
        "qa/weights/abstain.json for the heuristics)",
    )
    args = parser.parse_args(argv)
    if args.answerable_refused is not None and not 0 < args.answerable_refused < 1:
        parser.error("--answerable-refused must be between 0 and 1 (a share, e.g. 0.05)")

    items = load_qa(args.qa).items
    documents = load_documents(args.docs)
    exclusion = make_unanswerable(
        items, {d.doc_id: d.text for d in documents}, args.share, args.seed
    )
    kept = [d for d in documents if d.doc_id not in exclusion.docs]
    asked = list(exclusion.items)
    unasked = {i.id for i in items if not i.answers}  # unanswerable as written (SQuAD 2.0's)
    kinds = [
        "answerable" if i.answers else "as asked" if i.id in unasked else "left out" for i in asked
    ]
    if args.look_alikes:
        texts = {d.doc_id: d.text for d in kept}
        alikes = look_alike_items(exclusion.items, texts, args.look_alikes, args.seed)
        asked += alikes
        kinds += ["look-alike"] * len(alikes)
    settings = Settings(
        index_dir=excluded_index_dir(args.index_dir, set(exclusion.docs)),
        abstain_below=0.0,
        trained_model=not args.heuristics,
        trained_model_dir=args.trained_model,
    )
    embedder = load_embedder(settings.model)
    ensure_index(kept, settings.index_dir, embedder, settings.chunking, (args.index_dir,))
    set_query_threads(settings.torch_threads)
    name = chosen(settings)
    store = SegmentStore(settings.index_dir, embedder.name)
    # the roles before the abstainer only: the ranker need not have a refusal model yet
    retriever = HybridRetriever(store, embedder)
    ranking = ranker(name, settings)
    roles = (ranking, reader(ranking.reader, settings))
    verifier = None
    if not args.heuristics and not args.no_verifier and has_verifier(args.trained_model):
        verifier = load_verifier(
            args.trained_model, settings.runtime, settings.onnx_dir, settings.torch_threads
        )
        print(f"with the answerability verifier in {args.trained_model}")
    features = FEATURES if verifier is None else (*FEATURES, VERIFIED)
    out = args.out
    print(f"fitting for the {name} ranker and its reader, {ranking.reader}")
    rows, unanswerable, groups, kept_kinds = [], [], [], []
    for item, kind in tqdm(list(zip(asked, kinds)), desc="reading", unit="q", disable=None):
        found = find(retriever, *roles, item.question, settings.top_k, verifier=verifier)
        if found.features is None:
            continue
        rows.append(found.features)
        unanswerable.append(not item.answers)
        groups.append(group_name(item.doc))
        kept_kinds.append(kind)
    x, u, g = np.array(rows), np.array(unanswerable), np.array(groups)
    weights = kind_weights(kept_kinds)
    print(
        f"{len(x)} questions, {int(u.sum())} unanswerable: "
        + ", ".join(f"{n} {k}" for k, n in Counter(kept_kinds).items() if k != "answerable")
    )

    names = sorted(set(g))
    held = np.isin(g, names[::2])
    half = LogisticRegression(C=1.0, max_iter=5000)
    half.fit(
        x[~held],
        ~u[~held],
        sample_weight=kind_weights([k for k, h in zip(kept_kinds, held) if not h]),
    )
    p_half = half.predict_proba(x)[:, 1]
    for t in (0.3, 0.4, 0.5, 0.6):
        print(f"held-out groups, threshold {t}: {refusals(p_half, u, held, t)}")

    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, ~u, sample_weight=weights)
    p_all = model.predict_proba(x)[:, 1]
    everything = np.ones(len(u), bool)
    for t in (0.3, 0.4, 0.5, 0.6):
        print(f"all, threshold {t}: {refusals(p_all, u, everything, t)}")
    fitted = {
        "fitted_on": f"{args.qa.name}: {len(x)} questions, {int(u.sum())} made "
        f"unanswerable (share {args.share}, look-alikes {args.look_alikes}, seed {args.seed})"
    }
    if args.answerable_refused is not None:
        # the threshold under which that share of the answerable questions falls: chosen on
        # the half fitted on, how it holds on the other half is printed; the one written
        # is chosen the same way with the model fitted on everything
        share = args.answerable_refused
        t_half = float(np.quantile(p_half[~held & ~u], share))
        print(f"held-out groups, threshold {t_half:.3f} (refusing {share} of the answerable "
              f"fitted on): {refusals(p_half, u, held, t_half)}")  # fmt: skip
        fitted["below"] = round(float(np.quantile(p_all[~u], share)), 4)
        print(
            f"all, threshold {fitted['below']}: {refusals(p_all, u, everything, fitted['below'])}"
        )
    write_weights(out, features, model.coef_[0], model.intercept_[0], **fitted)
    print(f"wrote {out}")
    meta_path = args.trained_model / "meta.json"
    own = out.resolve() == (args.trained_model / ABSTAIN_WEIGHTS).resolve()
    if record and own and not args.heuristics and meta_path.is_file():
        # a refit of a trained model's own refusal model: its card says so (train_cross,
        # fitting it as part of the model, records it itself: record=False)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        command = "python -m train.fit_abstain " + " ".join(argv or sys.argv[1:])
        meta["refusals"] = {"command": command, **fitted}
        meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        write_card(args.trained_model, meta)
    return fitted


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
