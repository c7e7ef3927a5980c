"""The training loop train_cross and train_verifier share: AdamW with a linear warm-up and a
linear decay to zero at the end of the epochs or of the time limit (``--minutes``),
whichever comes first, so a slower machine trains fewer steps but still finishes its
schedule; checkpoints (train/checkpoint.py) that a stopped run continues from with the same
command; ``--stop-after`` batches for tests."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable

from tqdm import tqdm

from train.checkpoint import Checkpoint, Interrupted


def fit(
    model,
    make_batches: Callable[[random.Random], list[list]],
    loss_of: Callable[[list], object],
    args,
    checkpoint: Checkpoint,
    warmup: float = 0.1,
    fused: bool = True,
) -> tuple[list[float], bool, float]:
    """Mean loss per epoch, whether the time limit stopped it early, minutes trained (a
    resumed run's earlier minutes count). ``make_batches(rng)``: one epoch's batches, the same
    for the same ``rng`` state; ``loss_of(batch)``: the batch's mean loss as a tensor; ``args``:
    ``seed``, ``epochs``, ``lr``, ``minutes``, ``stop_after``."""
    import torch

    rng = random.Random(args.seed)
    steps = args.epochs * len(make_batches(random.Random(args.seed)))
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01, fused=fused)
    budget, began, spent = args.minutes * 60, time.monotonic(), 0.0

    def elapsed() -> float:
        return spent + time.monotonic() - began

    def rate(step: int) -> float:
        done = max(step / steps, elapsed() / max(budget, 1e-9))
        return done / warmup if done < warmup else max(0.0, (1.0 - done) / (1.0 - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    first_epoch, first_batch, total, seen, losses = 0, 0, 0.0, 0, []
    if where := checkpoint.resume(model, optimizer, schedule):
        first_epoch, first_batch = where["epoch"], where["batch"]
        total, seen, losses, spent = where["total"], where["seen"], where["losses"], where["spent"]
        print(f"resumed at batch {first_batch} of epoch {first_epoch + 1} ({spent / 60:.1f} min trained)")  # fmt: skip
    model.train()
    stop = args.stop_after
    for epoch in range(args.epochs):
        epoch_batches = make_batches(rng)  # advances rng as the first run did
        if epoch < first_epoch:
            continue
        start = first_batch if epoch == first_epoch else 0
        if epoch > first_epoch:
            total, seen = 0.0, 0
        bar = tqdm(epoch_batches, desc=f"epoch {epoch + 1}", initial=start, disable=None)
        for done, batch in enumerate(epoch_batches[start:], start=start + 1):
            loss = loss_of(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            total += loss.item() * len(batch)
            seen += len(batch)
            bar.update(1)
            bar.set_postfix(loss=f"{total / seen:.3f}")
            if bar.disable and done % 200 == 0:  # a log, not a terminal: a line now and then
                print(f"epoch {epoch + 1}: batch {done} of {len(epoch_batches)}, loss "
                      f"{total / seen:.3f}, {elapsed() / 60:.1f} min", flush=True)  # fmt: skip
            out_of_time = elapsed() > budget
            if stop is not None:
                stop -= 1
            if checkpoint.due() or stop == 0:
                checkpoint.save(model, optimizer, schedule, epoch=epoch, batch=done,
                                total=total, seen=seen, losses=losses, spent=elapsed())  # fmt: skip
            if stop == 0:
                raise Interrupted(f"stopped after batch {done} of epoch {epoch + 1}: "
                                  "run the same command to go on")  # fmt: skip
            if out_of_time:
                print(f"time limit reached after {done} of {len(epoch_batches)} batches "
                      f"of epoch {epoch + 1}: stopping")  # fmt: skip
                losses.append(total / seen)
                return losses, True, elapsed() / 60
        bar.close()
        losses.append(total / seen)
        print(f"epoch {epoch + 1}: mean loss {total / seen:.4f}")
    return losses, False, elapsed() / 60


def packed(groups: Iterable[list], size: int) -> list[list]:
    """Groups (a question's examples, kept together) in their order, packed into batches of
    at least ``size`` examples (the last one smaller)."""
    out, batch = [], []
    for group in groups:
        batch += group
        if len(batch) >= size:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


def record(args, minutes: float, stopped: bool, losses: list[float], **more) -> dict:
    """How a run trained, for the model's card (``more``: what else it should say)."""
    return {
        "epochs": args.epochs,
        "batch": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "bf16": args.bf16,
        **more,
        "minutes": round(minutes, 1),
        "stopped_by_time_limit": stopped,
        "loss_per_epoch": [round(x, 4) for x in losses],
    }
