"""Train the answerability verifier (qa/read/verify.py) beside a reader.

    python -m train.train_verifier \\
        --paragraphs ../shared/data/squad11-train/squad11_train_paragraphs.jsonl.gz \\
        --unanswerable ../shared/data/squad20-train-unanswerable-unansq/squad20_train_unanswerable_unansq.json.gz \\
        --hold-out ../shared/data/squad20-train-first10/train-v2.0-first10articles.json \\
        --out runs/verifier

It starts from the reader (``--reader``, the shipped qa/models/cross by default), keeps its
embeddings and first ``--from-layer`` layers as they are, and trains the others and both
heads again on (question, sentence with its neighbours) windows (train.verifier_data): the
relevance head says whether the window answers (SQuAD 2.0's real unanswerable questions and
the answerable twin each was written from, in one batch; SQuAD 1.1 train questions, some
also on another paragraph's window), the span head where (the [CLS] token when nowhere),
as SQuAD 2.0 readers learn. The articles of ``--hold-out`` (squad20-train-first10, measured
on) are left out, and so are ``--calibration-articles`` of the unanswerable questions'
articles (the same ones ``train.squad_collection --calibration-articles`` keeps for fitting
refusals; the held-out AUC printed is on them). Checkpoints every few minutes; a stopped
run goes on with the same command. Writes ``verifier.safetensors`` (fp16, only the trained
weights, with the digest of the reader's weights it was made for) and ``verifier.json`` to
``--out``; copy both into the reader's folder and refit its refusals (docs/training.md)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from index.graphs import file_sha256
from index.precision import bf16_native
from qa.read.cross import MODEL_DIR, WEIGHTS, load_network, pad, similar_lengths
from qa.read.verify import MAX_LENGTH, VERIFIER, VERIFIER_META, made_for, put_over, verifier_card
from train.answerability import held_out_titles, load_paragraphs
from train.checkpoint import Checkpoint
from train.loop import fit, packed, record
from train.squad_collection import calibration_titles, load_unanswerable
from train.verifier_data import Example, groups

IGNORE = -100  # no span target: the answer was cut off by the token limit


def encode(tokenizer, examples: Sequence[Example]) -> list[dict]:
    """Token ids of (question, window) with the answer's first and last token (0, [CLS],
    when unanswerable)."""
    out = []
    for e, enc in zip(examples, tokenizer.encode_batch([(e.question, e.text) for e in examples])):
        start = end = 0
        if e.answerable:
            start = end = IGNORE
            if e.span is not None:
                a, b = e.span
                tokens = [
                    k for k, (s, (x, y)) in enumerate(zip(enc.sequence_ids, enc.offsets))
                    if s == 1 and x < b and y > a
                ]  # fmt: skip
                if tokens:
                    start, end = tokens[0], tokens[-1]
        out.append(
            {"input_ids": enc.ids, "token_type_ids": enc.type_ids, "label": float(e.answerable),
             "start": start, "end": end}
        )  # fmt: skip
    return out


def batches(encoded: list[list[dict]], size: int, rng: random.Random) -> list[list[dict]]:
    """Shuffled batches of whole groups (an unanswerable question beside its twin), about
    ``size`` examples each; the same every run for one seed."""
    order = list(range(len(encoded)))
    rng.shuffle(order)
    return packed((encoded[g] for g in order), size)


def step_loss(model, batch: list[dict], bf16: bool):
    import torch

    bce = torch.nn.BCEWithLogitsLoss(reduction="sum")
    ce = torch.nn.CrossEntropyLoss(reduction="sum", ignore_index=IGNORE)
    total = 0.0
    for rows in similar_lengths([len(e["input_ids"]) for e in batch]):
        part = [batch[r] for r in rows]
        ids, mask, types = pad([e["input_ids"] for e in part], [e["token_type_ids"] for e in part])
        label = torch.tensor([e["label"] for e in part])
        start = torch.tensor([e["start"] for e in part])
        end = torch.tensor([e["end"] for e in part])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            relevance, s, e = model(ids, mask, types)
        s = s.float().masked_fill(mask == 0, -1e4)
        e = e.float().masked_fill(mask == 0, -1e4)
        total = total + bce(relevance.float(), label) + 0.5 * (ce(s, start) + ce(e, end)) / 2
    return total / len(batch)


def heldout_auc(model, encoded: list[dict], bf16: bool) -> float:
    """Refusal AUC of the verifier's logit on examples of articles it never saw."""
    import torch
    from sklearn.metrics import roc_auc_score

    model.eval()
    scores = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for k in range(0, len(encoded), 32):
            part = encoded[k : k + 32]
            ids, mask, types = pad(
                [e["input_ids"] for e in part], [e["token_type_ids"] for e in part]
            )
            scores += model(ids, mask, types)[0].float().tolist()
    return float(roc_auc_score([e["label"] for e in encoded], scores))


def warm_start(model, start: Path, reader: Path) -> None:
    """Loads a verifier trained for ``reader`` over ``model``: its layers and heads go on
    training from where they were."""
    if not made_for(start / VERIFIER, reader):
        raise SystemExit(f"{start / VERIFIER} was trained for other reader weights than {reader}")
    put_over(model, start / VERIFIER)


def started_from(start: Path | None) -> dict | None:
    """What a continued run went on from: the folder and how its verifier was made."""
    if start is None:
        return None
    card = verifier_card(start) or {}
    return {"folder": str(start), **{k: card[k] for k in ("command", "training") if k in card}}


def save(model, out: Path, reader: Path, from_layer: int, meta: dict) -> None:
    from safetensors.torch import save_file

    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    state = {
        k: v.detach().half().contiguous() for k, v in model.state_dict().items() if k in trained
    }
    out.mkdir(parents=True, exist_ok=True)
    save_file(
        state,
        str(out / VERIFIER),
        metadata={
            "reader_sha256": file_sha256(reader / WEIGHTS).hex(),
            "from_layer": str(from_layer),
        },
    )
    (out / VERIFIER_META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m train.train_verifier", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--paragraphs", type=Path, required=True, help="squad11_train_paragraphs.jsonl.gz"
    )
    parser.add_argument(
        "--unanswerable", type=Path, required=True, help="squad20_train_unanswerable_unansq.json.gz"
    )
    parser.add_argument(
        "--hold-out", type=Path, help="a SQuAD 2.0 file whose articles to leave out"
    )
    parser.add_argument("--calibration-articles", type=int, default=30)
    parser.add_argument("--reader", type=Path, default=MODEL_DIR, help="the reader it verifies for")
    parser.add_argument(
        "--from",
        dest="start",
        type=Path,
        help="a folder with a verifier for the same reader to go on training",
    )
    parser.add_argument(
        "--from-layer", type=int, default=3, help="layers from this one on are trained"
    )
    parser.add_argument(
        "--answerable", type=int, default=14000, help="SQuAD 1.1 questions besides the twins"
    )
    parser.add_argument(
        "--elsewhere",
        type=float,
        default=0.35,
        help="share of those also read on another paragraph",
    )
    parser.add_argument(
        "--short", type=float, default=0.3, help="share of answerable questions also shortened"
    )
    parser.add_argument(
        "--reversed", type=int, default=0, help="questions also asked with two names reversed"
    )
    parser.add_argument(
        "--counted", type=int, default=0, help='"How many" questions also counting another thing'
    )
    parser.add_argument(
        "--repeat-reversed",
        type=int,
        default=1,
        help="each reversed look-alike's group read this many times an epoch (they are few)",
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=75.0, help="hard stop for training")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-minutes", type=float, default=3.0)
    parser.add_argument("--stop-after", type=int, help="stop after this many batches (tests)")
    parser.add_argument("--limit", type=int, help="use only this many groups (smoke runs)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    import torch
    from tokenizers import Tokenizer

    began = time.monotonic()
    skip = held_out_titles(args.hold_out)
    paragraphs = load_paragraphs(args.paragraphs, skip)
    unanswerable = {
        k: v for k, v in load_unanswerable(args.unanswerable).items() if k[0] not in skip
    }
    held = calibration_titles(unanswerable, args.calibration_articles, random.Random(args.seed + 1))
    made = groups(
        paragraphs,
        unanswerable,
        skip | held,
        args.answerable,
        args.elsewhere,
        args.seed,
        args.short,
        args.reversed,
        args.counted,
    )
    made += [g for g in made if g[-1].kind == "reversed"] * (args.repeat_reversed - 1)
    others = {p["title"] for p in paragraphs} - held
    check = groups(
        paragraphs, unanswerable, skip | others, 600, args.elsewhere, args.seed,
        reversed_n=min(args.reversed, 100), counted_n=min(args.counted, 100),
    )  # fmt: skip
    check = random.Random(args.seed).sample(check, min(800, len(check)))
    if args.limit:
        made, check = made[: args.limit], check[: max(8, args.limit // 4)]
    examples = [e for g in made for e in g]
    print(f"{len(made)} groups, {len(examples)} examples ({sum(not e.answerable for e in examples)} "
          f"unanswerable); held-out: {sum(len(g) for g in check)} examples of {len(held)} articles")  # fmt: skip

    tokenizer = Tokenizer.from_file(str(args.reader / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_LENGTH, strategy="only_second")
    encoded = [encode(tokenizer, g) for g in made]
    checked = [e for g in check for e in encode(tokenizer, g)]
    model, _ = load_network(args.reader, attention="eager")
    if args.start:
        warm_start(model, args.start, args.reader)
    for name, p in model.named_parameters():
        layer = name.split("encoder.layer.")[1].split(".")[0] if "encoder.layer." in name else None
        p.requires_grad_(
            not name.startswith("bert.embeddings")
            and (layer is None or int(layer) >= args.from_layer)
        )
    if args.bf16 is None:
        args.bf16 = bf16_native()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    before = heldout_auc(model, checked, args.bf16)
    print(
        f"held-out AUC before training ({'the verifier' if args.start else 'the reader'}): {before:.3f}"
    )
    checkpoint = Checkpoint(args.out, args.checkpoint_minutes)
    losses, stopped, minutes = fit(
        model,
        lambda rng: batches(encoded, args.batch, rng),
        lambda batch: step_loss(model, batch, args.bf16),
        args,
        checkpoint,
        warmup=0.06,
        fused=False,
    )
    after = heldout_auc(model, checked, args.bf16)
    print(f"trained {minutes:.1f} min; held-out AUC {before:.3f} -> {after:.3f}")
    meta = {
        # the shipped reader by its place in the repository, not this machine's path
        "reader": "qa/models/cross"
        if args.reader.resolve() == MODEL_DIR.resolve()
        else str(args.reader),
        "from_layer": args.from_layer,
        "continued_from": started_from(args.start),
        "max_length": MAX_LENGTH,
        "trained_on": {
            "groups": len(made),
            "examples": len(examples),
            "unanswerable": sum(not e.answerable for e in examples),
            "squad20_unanswerable": sum(1 for g in made if not g[0].answerable),
            "short": sum(e.kind == "short" for e in examples),
            "elsewhere": sum(e.kind == "elsewhere" for e in examples),
            "reversed": sum(e.kind == "reversed" for e in examples) // args.repeat_reversed,
            "reversed_read": args.repeat_reversed,
            "counted": sum(e.kind == "counted" for e in examples),
            "left_out": f"the articles of {args.hold_out.name if args.hold_out else 'none'} and "
            f"{len(held)} calibration articles",
        },
        "training": record(args, minutes, stopped, losses),
        "heldout": {
            "examples": len(checked),
            ("auc_started_from" if args.start else "auc_reader_relevance"): round(before, 4),
            "auc": round(after, 4),
        },
        "command": "python -m train.train_verifier "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "total_minutes": round((time.monotonic() - began) / 60, 1),
    }
    save(model, args.out, args.reader, args.from_layer, meta)
    checkpoint.remove()
    print(f"wrote {args.out / VERIFIER} in {meta['total_minutes']} min in all")


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
