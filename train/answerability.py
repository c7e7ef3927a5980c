"""Teach the trained cross-encoder to tell a sentence that answers a question from one that
only looks as if it does, on SQuAD 1.1 train with generated unanswerable look-alikes.

    python -m train.answerability \\
        --squad ../shared/data/squad11-train/squad11_train_paragraphs.jsonl.gz \\
        --hold-out ../shared/data/squad20-train-first10/train-v2.0-first10articles.json \\
        --from qa/models/cross --out runs/answerable/model

It starts from a trained model (``--from``) and fine-tunes it on questions drawn from every
article of the training file except those of ``--hold-out`` (a SQuAD 2.0 file whose real
unanswerable questions measure the result). Each question gives (question, sentence)
pairs: its evidence sentence (the answer's span to find), the paragraph's sentence most
like the question without the answer and the like from a sibling paragraph ("no answer
here"), and look-alike questions made unanswerable by checked edits (``train.negatives``)
read with the evidence sentence ("no answer here", and less relevant than the original
question by ``--margin``). The span head learns "no answer" ([CLS]) from every negative;
the relevance head keeps the ranking it had (it is held to the starting model's scores on
the real pairs) and learns to rank the look-alikes below their originals.

One command, fixed seed, CPU only; it saves a checkpoint every few minutes and a stopped
run continues from it with the same command. Refit the abstention model for the new
scores afterwards (``python -m train.fit_abstain ... --out MODEL/abstain.json``)."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.precision import bf16_native
from index.split import split_sentences
from qa.read.cross import WEIGHTS, load_network, pad, similar_lengths
from train.checkpoint import Checkpoint, Interrupted
from train.cross_data import Pair, encode
from train.model_card import write_card
from train.negatives import name_pool, negatives
from train.train_cross import save


def held_out_titles(path: Path | None) -> set[str]:
    if path is None:
        return set()
    return {a["title"] for a in json.loads(path.read_text(encoding="utf-8"))["data"]}


def load_paragraphs(path: Path, skip: set[str]) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [p for p in map(json.loads, f) if p["title"] not in skip]


def _words(text: str) -> set[str]:
    return {w for w in text.lower().split() if len(w) > 3}


def most_like(question: str, sentences: Sequence[str], answer: str) -> str | None:
    """The sentence sharing most words with the question that does not hold the answer."""
    asked = _words(question)
    best, score = None, 0
    for s in sentences:
        if answer.lower() in s.lower():
            continue
        shared = len(asked & _words(s))
        if shared > score:
            best, score = s, shared
    return best


def sample_questions(paragraphs: list[dict], n: int, rng: random.Random) -> list[tuple[int, dict]]:
    """About ``n`` (paragraph index, question) drawn evenly from every article."""
    by_article: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for k, p in enumerate(paragraphs):
        for qa in p["qas"]:
            by_article[p["title"]].append((k, qa))
    per_article = max(1, -(-n // len(by_article)))
    out = []
    for title in sorted(by_article):
        items = by_article[title]
        out += rng.sample(items, min(per_article, len(items)))
    rng.shuffle(out)
    return out[:n]


def make_data(paragraphs: list[dict], n: int, seed: int, per_question: int):
    """(pairs, kinds): the training pairs, and how many look-alikes of each kind."""
    from qa.read.readers.phrases import _nlp

    rng = random.Random(seed)
    chosen = sample_questions(paragraphs, n, rng)
    sentences = {}
    for k in {k for k, _ in chosen}:
        text = paragraphs[k]["context"]
        sentences[k] = [(s.start, s.end) for s in split_sentences(text)]
    by_article: dict[str, list[int]] = defaultdict(list)
    for k, p in enumerate(paragraphs):
        by_article[p["title"]].append(k)
    nlp = _nlp()
    parsed = list(nlp.pipe([qa["question"] for _, qa in chosen], batch_size=256))
    # the names to swap in: those of every question of the article, by kind
    asked = [(p["title"], qa["question"]) for p in paragraphs for qa in p["qas"]]
    names = nlp.pipe((q for _, q in asked), batch_size=512, disable=["parser", "tagger"])
    pool = name_pool(
        (title, [(e.text, e.label_) for e in doc.ents])
        for (title, _), doc in tqdm(zip(asked, names), total=len(asked), desc="names", disable=None)
    )
    pairs, kinds = [], defaultdict(int)
    for q, ((k, qa), doc) in enumerate(zip(chosen, parsed)):
        p = paragraphs[k]
        text, a = p["context"], qa["answer_start"]
        b = a + len(qa["answer"])
        spans = [(s, e) for s, e in sentences[k] if s <= a < e]
        if not spans or b > spans[0][1]:
            continue  # the answer crosses a sentence boundary
        s, e = spans[0]
        evidence = text[s:e]
        question = qa["question"]
        pairs.append(Pair(q, question, evidence, True, (a - s, b - s), 0.0, True))
        own = [text[x:y] for x, y in sentences[k] if (x, y) != (s, e)]
        if like := most_like(question, own, qa["answer"]):
            pairs.append(Pair(q, question, like, False, None, 0.0, True))
        siblings = [j for j in by_article[p["title"]] if j != k]
        if siblings:
            other = paragraphs[rng.choice(siblings)]["context"]
            theirs = [other[x.start : x.end] for x in split_sentences(other)]
            if like := most_like(question, theirs, qa["answer"]):
                pairs.append(Pair(q, question, like, False, None, 0.0, True))
        made = negatives(
            question, evidence, text, [(t.text, t.label_) for t in doc.ents],
            pool.get(p["title"], {}), rng,
        )  # fmt: skip
        for neg in made[:per_question]:
            kinds[neg.kind] += 1
            # ranked=False marks a look-alike: "no answer", and below its original
            pairs.append(Pair(q, neg.question, evidence, False, None, 0.0, False))
    return pairs, dict(kinds)


def teacher_scores(model, examples: list[dict], bf16: bool) -> np.ndarray:
    """The starting model's relevance for every pair (what the ranking keeps)."""
    import torch

    out = np.zeros(len(examples), dtype=np.float32)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["input_ids"]))
    model.eval()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for c in tqdm(range(0, len(order), 64), desc="teacher", disable=None):
            rows = order[c : c + 64]
            ids, mask, types = pad(
                [examples[r]["input_ids"] for r in rows],
                [examples[r]["token_type_ids"] for r in rows],
            )
            out[rows] = model(ids, mask, types)[0].float().numpy()
    return out


def batches(n: int, size: int, seed: int, epochs: int) -> list[list[int]]:
    rng = random.Random(seed)
    out = []
    for _ in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        out += [order[c : c + size] for c in range(0, n, size)]
    return out


def load_model(directory: Path):
    import torch

    # eager attention: on the CPU the fused attention's backward pass in bf16 is slow
    model, config = load_network(directory, attention="eager")
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return model, config, torch


def train(model, examples, teacher, original, args, checkpoint: Checkpoint) -> dict:
    """Fine-tune in place; resumes from ``checkpoint`` when it holds a run."""
    import torch

    plan = batches(len(examples), args.batch, args.seed, args.epochs)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, step / (0.1 * len(plan))) * max(0.0, 1 - step / len(plan))
    )
    step, spent, losses = 0, 0.0, []
    if where := checkpoint.resume(model, optimizer, schedule):
        step, spent, losses = where["step"], where["minutes"], where["losses"]
        print(f"resumed at step {step} of {len(plan)} ({spent:.1f} min trained)")
    ce = torch.nn.CrossEntropyLoss(reduction="sum")
    model.train()
    began = time.monotonic()
    bar = tqdm(total=len(plan), initial=step, desc="fine-tuning", disable=None)
    stop = len(plan) if args.stop_after is None else min(len(plan), step + args.stop_after)
    while step < stop:
        batch = plan[step]
        total = 0.0
        for rows in similar_lengths([len(examples[r]["input_ids"]) for r in batch]):
            picked = [batch[r] for r in rows]
            ids, mask, types = pad(
                [examples[r]["input_ids"] for r in picked],
                [examples[r]["token_type_ids"] for r in picked],
            )
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                relevance, s, e = model(ids, mask, types)
            relevance, s, e = relevance.float(), s.float(), e.float()
            s = s.masked_fill(mask == 0, -1e4)
            e = e.masked_fill(mask == 0, -1e4)
            start = torch.tensor([examples[r]["start"] for r in picked])
            end = torch.tensor([examples[r]["end"] for r in picked])
            span = (ce(s, start) + ce(e, end)) / 2
            real = torch.tensor([examples[r]["ranked"] for r in picked])
            target = torch.tensor(teacher[picked])
            keep = ((relevance - target) ** 2 * real).sum()
            # a look-alike ranks below its original question by the margin
            ceiling = torch.tensor(original[picked]) - args.margin
            below = (torch.relu(relevance - ceiling) ** 2 * ~real).sum()
            loss = (span + keep + below) / len(batch)
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(total)
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-200:]):.3f}")
        if checkpoint.due() or step == stop:
            minutes = spent + (time.monotonic() - began) / 60
            checkpoint.save(model, optimizer, schedule, step=step, minutes=minutes, losses=losses)
    bar.close()
    if step < len(plan):
        raise Interrupted(f"stopped at step {step} of {len(plan)}: run the same command to go on")
    return {
        "steps": len(plan),
        "minutes": round(spent + (time.monotonic() - began) / 60, 1),
        "loss_first_200": round(float(np.mean(losses[:200])), 4),
        "loss_last_200": round(float(np.mean(losses[-200:])), 4),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--squad", type=Path, required=True, help="squad11_train_paragraphs.jsonl.gz"
    )
    parser.add_argument(
        "--hold-out", type=Path, help="a SQuAD 2.0 file whose articles to leave out"
    )
    parser.add_argument(
        "--from", dest="start", type=Path, required=True, help="the model to start from"
    )
    parser.add_argument("--out", type=Path, required=True, help="the model folder to write")
    parser.add_argument("--questions", type=int, default=6000)
    parser.add_argument("--negatives", type=int, default=2, help="look-alikes per question at most")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--margin", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint-minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--stop-after", type=int, help="stop after this many steps (the checkpoint keeps them)"
    )
    args = parser.parse_args(argv)
    for path in (args.squad, args.start / WEIGHTS):
        if not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")

    from transformers import BertTokenizerFast

    began = time.monotonic()
    if args.bf16 is None:
        args.bf16 = bf16_native()
    skip = held_out_titles(args.hold_out)
    paragraphs = load_paragraphs(args.squad, skip)
    articles = len({p["title"] for p in paragraphs})
    pairs, kinds = make_data(paragraphs, args.questions, args.seed, args.negatives)
    print(
        f"{len(pairs)} pairs from {args.questions} questions of {articles} articles "
        f"({len(skip)} held out); look-alikes by kind: {kinds}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "look_alikes.jsonl").open("w", encoding="utf-8") as f:
        originals = {p.question: p.text for p in pairs if p.label}
        for p in pairs:
            if not p.ranked:
                row = {"original": originals.get(p.question), "look_alike": p.text}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    model, config, torch = load_model(args.start)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = BertTokenizerFast.from_pretrained(str(args.start))
    meta = json.loads((args.start / "meta.json").read_text(encoding="utf-8"))
    examples = encode(tokenizer, pairs, int(meta["max_length"]))
    cached = args.out / "teacher.npy"
    if cached.is_file():
        teacher = np.load(cached)
    else:
        teacher = teacher_scores(model, examples, args.bf16)
        np.save(cached, teacher)
    # each look-alike's original: the teacher's score for its question's evidence sentence
    first = {}
    for k, p in enumerate(pairs):
        if p.label:
            first[p.question] = teacher[k]
    original = np.array([first.get(p.question, 0.0) for p in pairs], dtype=np.float32)
    figures = train(
        model, examples, teacher, original, args, Checkpoint(args.out, args.checkpoint_minutes)
    )

    meta["answerability"] = {
        "started_from": str(args.start),
        "trained_on": f"{args.squad.name}: {args.questions} questions of {articles} articles",
        "held_out_articles": sorted(skip),
        "pairs": len(pairs),
        "look_alikes": kinds,
        **{k: getattr(args, k) for k in ("epochs", "batch", "lr", "margin", "seed", "bf16")},
        **figures,
        "total_minutes": round((time.monotonic() - began) / 60, 1),
    }
    save(model, config, tokenizer, args.out, meta)
    write_card(args.out, meta)
    print(f"wrote {args.out} in {meta['answerability']['total_minutes']} min")


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
