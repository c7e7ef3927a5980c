"""Average a model trained further with the one it started from:
``python -m train.average START TRAINED --out OUT [--weight 0.5]``.

A model trained further (``train_cross --from START``) and its start lie in one basin of
the loss, and the mean of their weights (weight-space ensembling: Wortsman et al., 2022,
"Robust fine-tuning of zero-shot models") keeps much of what the training added while
losing less of what the start did well. The result is TRAINED's folder (its heads, reading
gap and card) with the averaged weights, the averaging recorded in meta.json and the card.
Its held-out figures are TRAINED's, and its refusal model was fitted on TRAINED's scores:
fit it again (train.fit_abstain)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from qa.errors import TrainedModelError
from qa.read.cross import WEIGHTS
from train.model_card import HELDOUT_COPIED, write_card


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start", type=Path, help="the model folder training started from")
    parser.add_argument("trained", type=Path, help="the model trained further from it")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--weight", type=float, default=0.5, help="the trained model's share")
    args = parser.parse_args(argv)
    if not 0.0 < args.weight < 1.0:
        parser.error(f"--weight must be between 0 and 1 (exclusive), not {args.weight}")
    if args.out.resolve() in (args.start.resolve(), args.trained.resolve()):
        parser.error("--out must be a new folder, not one of the models averaged")

    from safetensors.torch import load_file, save_file

    start, trained = (_weights(p, load_file) for p in (args.start, args.trained))
    if start.keys() != trained.keys() or any(start[k].shape != trained[k].shape for k in start):
        raise TrainedModelError(
            f"{args.start} and {args.trained} are not the same network (layers or sizes "
            "differ): only a model and the one it was trained further from can be averaged"
        )
    w = args.weight
    mean = {
        k: ((1 - w) * start[k].float() + w * trained[k].float()).to(trained[k].dtype)
        for k in trained
    }
    shutil.copytree(args.trained, args.out, dirs_exist_ok=True)
    save_file(mean, str(args.out / WEIGHTS))
    meta = json.loads((args.out / "meta.json").read_text(encoding="utf-8"))
    meta["averaged"] = {
        "start": str(args.start),
        "weight_of_trained": w,
        "command": "python -m train.average " + " ".join(argv or sys.argv[1:]),
        # the figures in meta.json are copied, not measured again
        "heldout_of": HELDOUT_COPIED,
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    write_card(args.out, meta)
    print(f"wrote {args.out}: {w} of {args.trained}, {round(1 - w, 4)} of {args.start}")
    return meta["averaged"]


def _weights(folder: Path, load_file) -> dict:
    path = folder / WEIGHTS
    if not path.is_file():
        raise TrainedModelError(f"no model weights at {path}")
    return load_file(str(path))


if __name__ == "__main__":
    from qa.cli import run_cli

    run_cli(main)
