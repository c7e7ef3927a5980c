"""The embedder's int8 recipe: ``python -m train.quantize_embedder``.

The reader's recipe (``train.quantize``) made for the packaged embedding model
(all-MiniLM-L6-v2): SmoothQuant's scales (index/smoothing.py) calibrated on sentences and
questions of SQuAD 1.1 train embedded as ``qa index`` and ``/ask`` embed them (longest first,
in batches of 32), alpha picked by how close the int8 vectors come to fp32's on other such
texts (the least cosine first, then the mean), and the ``--keep`` linear layers whose
quantization alone lowers the least cosine most kept in fp32. Writes
``index/models/minilm-smoothing.safetensors``, bound to the packaged model's weights:
``QA_INDEX_RUNTIME=int8`` (and ``auto`` on CPUs without native bf16) and the int8 question
embedder then use it. Prints each candidate's cosines and texts per second. About 10
minutes on 2 cores; ``--texts 64 --keep 0 --alphas 0.85`` in the tests.

SQuAD train is never measured on, so the recipe is chosen apart from every figure quoted."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embed import (
    EMBEDDER_RECIPE,
    MiniLMEmbedder,
    batched,
    mean_pooled,
    minilm_network,
    minilm_weights,
)
from index.smoothing import Recipe, graph_node, input_maxima, linear_layers, scales, smoothed
from index.split import split_sentences
from train.quantize import TRAIN

BATCH = 32
OUTPUTS = ["hidden"]


def texts(path: Path, count: int, seed: int) -> tuple[list[str], list[str]]:
    """(calibration texts, check texts): ``count`` each, sentences and questions of SQuAD
    1.1 train paragraphs shuffled with ``seed`` (about four sentences to a question, as an
    index holds them), alternating between the two halves paragraph by paragraph."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        paragraphs = [json.loads(line) for line in f]
    random.Random(seed).shuffle(paragraphs)
    halves: list[list[str]] = [[], []]
    for k, p in enumerate(paragraphs):
        if min(len(h) for h in halves) >= count:
            break
        text = p["context"]
        half = halves[k % 2]
        half += [text[s.start : s.end] for s in split_sentences(text)]
        half += [qa["question"] for qa in p["qas"][:1]]
    return halves[0][:count], halves[1][:count]


def batches(tokenizer, rows: Sequence[str]) -> list[tuple]:
    """Padded (ids, mask, types) of ``BATCH`` texts each, as ``MiniLMEmbedder.encode``
    batches them (``index.embed.batched``)."""
    return [inputs for _, inputs in batched(tokenizer, rows, BATCH)]


class Vectors:
    """What a graph embeds the check batches to, and its texts per second on 1 thread."""

    def __init__(self, graph: Path, checks: list[tuple]) -> None:
        from index.graphs import Graph

        run = Graph(graph, threads=1)
        for b in checks[:2]:  # warm-up
            run(*b)
        t0 = time.perf_counter()
        hidden = [run(*b)[0] for b in checks]
        seconds = time.perf_counter() - t0
        self.per_second = sum(len(b[0]) for b in checks) / seconds
        self.vectors = np.concatenate(
            [mean_pooled(h, b[1]) for h, b in zip(hidden, checks, strict=True)]
        )

    def closeness(self, exact: Vectors) -> tuple[float, float]:
        """(least, mean) cosine of these vectors to ``exact``'s."""
        cos = (self.vectors * exact.vectors).sum(axis=1)
        return float(cos.min()), float(cos.mean())


def main(argv: Sequence[str] | None = None) -> Recipe:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=Path, default=TRAIN, help="SQuAD 1.1 train")
    parser.add_argument(
        "--texts", type=int, default=1200, help="calibration texts (and as many to check)"
    )
    parser.add_argument("--alphas", default="0.5,0.7,0.85", help="smoothing strengths tried")
    parser.add_argument("--keep", type=int, default=6, help="linear layers kept in fp32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=EMBEDDER_RECIPE, help="where the recipe is written"
    )
    args = parser.parse_args(argv)
    if not args.paragraphs.is_file():
        parser.error(f"{args.paragraphs} not found (SQuAD 1.1 train paragraphs, .jsonl.gz)")
    alphas = [float(a) for a in args.alphas.split(",")]

    from index.graphs import export, quantize_file, quantize_products

    tokenizer = MiniLMEmbedder.tokenizer_of()
    calibration, check = texts(args.paragraphs, args.texts, args.seed)
    model = minilm_network()
    maxima = input_maxima(model, batches(tokenizer, calibration))
    checks = batches(tokenizer, check)
    layers = list(linear_layers(model))
    print(f"{len(calibration)} calibration and {len(check)} check texts", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export(model, work / "fp32.onnx", OUTPUTS)
        exact = Vectors(work / "fp32.onnx", checks)
        few = checks[: max(1, len(checks) // 3)]
        quick = Vectors(work / "fp32.onnx", few)
        print(f"fp32: {exact.per_second:.0f} texts/s", flush=True)
        quantize_file(work / "fp32.onnx", work / "plain.onnx")  # index.graphs.quantized's
        plain = Vectors(work / "plain.onnx", checks)

        def report(name: str, vectors: Vectors, against: Vectors) -> None:
            least, mean = vectors.closeness(against)
            print(
                f"{name}: cosine least {least:.4f}, mean {mean:.5f}, "
                f"{vectors.per_second:.0f} texts/s ({vectors.per_second / against.per_second:.2f}x)",
                flush=True,
            )

        report("plain int8 (no recipe)", plain, exact)
        exported: dict[float, Path] = {}  # the smoothed fp32 graph of each alpha

        def tried(alpha: float, keep: Sequence[str], on: list[tuple]) -> Vectors:
            if alpha not in exported:
                fresh = minilm_network()
                exported[alpha] = work / f"smoothed-{alpha}.onnx"
                recipe = Recipe(scales(fresh, maxima, alpha), alpha, ())
                export(smoothed(fresh, recipe), exported[alpha], OUTPUTS)
            path = work / "int8.onnx"
            quantize_products(exported[alpha], path, [graph_node(k) for k in keep])
            return Vectors(path, on)

        with_alpha = {}
        for alpha in alphas:
            with_alpha[alpha] = tried(alpha, [], checks)
            report(f"alpha {alpha}", with_alpha[alpha], exact)
        best = max(alphas, key=lambda a: with_alpha[a].closeness(exact))
        final = with_alpha[best]
        keep: list[str] = []
        if args.keep:
            # each layer's harm: how far the vectors move when it alone is quantized (on a
            # third of the check texts: 36 layers)
            harm = {}
            for layer in layers:
                alone = tried(best, [k for k in layers if k != layer], few)
                least, mean = alone.closeness(quick)
                harm[layer] = (1 - least, 1 - mean)
                print(f"only {layer}: cosine least {least:.4f}, mean {mean:.5f}", flush=True)
            keep = sorted(layers, key=lambda k: harm[k], reverse=True)[: args.keep]
            final = tried(best, keep, checks)
            report(f"alpha {best}, keeping {', '.join(keep)}", final, exact)
    least, mean = final.closeness(exact)
    recipe = Recipe(scales(minilm_network(), maxima, best), best, tuple(keep))
    command = "python -m train.quantize_embedder " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    path = recipe.save(
        args.out.parent,
        args.out.name,
        minilm_weights(),
        extra={
            "command": command.strip(),
            "calibration": f"{len(calibration)} SQuAD 1.1 train sentences and questions",
            "checked_texts": str(len(check)),
            "cosine_least": f"{least:.4f}",
            "cosine_mean": f"{mean:.5f}",
            "plain_cosine_least": f"{plain.closeness(exact)[0]:.4f}",
            "speed_of_fp32": f"{final.per_second / exact.per_second:.2f}",
        },
    )
    print(f"wrote {path} (alpha {best}, {len(keep)} layers in fp32)")
    return recipe


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
