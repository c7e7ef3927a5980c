"""The int8 recipes: ``python -m train.quantize [--model qa/models/cross] [--verifier]``.

Calibrates SmoothQuant's scales (index/smoothing.py) on questions of SQuAD 1.1 train read
with the sentences of their paragraphs, picks alpha by how often the int8 network reads the
same span as the fp32 one on other such questions, keeps in fp32 the ``--keep`` linear
layers whose quantization alone moves it most, and writes ``smoothing.safetensors`` into the
model folder, which ``QA_ENCODER_RUNTIME=int8`` (and ``auto`` on most CPUs) then uses.
``--verifier`` does the same for the answerability verifier beside the reader
(qa/read/verify.py), read as it reads: each sentence with its neighbours, one pair a call;
it writes ``verifier-smoothing.safetensors``. Prints the agreement and the time per pair of
each candidate. Rerun it on every new reader or verifier (about 10 minutes on 2 cores for
the reader, 25 for the verifier; ``--questions 8 --keep 0 --alphas 0.85`` in the tests).

SQuAD train is never measured on (dev13, the seed set and squad20-train-first10 are), so the
recipe is chosen on data apart from every figure quoted."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.smoothing import (
    FILE,
    WEIGHTS,
    Recipe,
    graph_node,
    input_maxima,
    linear_layers,
    scales,
    smoothed,
)
from index.split import split_sentences
from qa.read.cross import CrossModel, best_spans, load_network, pair_inputs
from qa.read.verify import (
    VERIFIER,
    VERIFIER_META,
    VERIFIER_RECIPE,
    WIDTH,
    verifier_network,
    verifier_tokenizer,
    window,
)
from qa.shipped import MODEL_DIR
from train.model_card import write_card

# the shared data sets: beside the checkout, or where this machine keeps them
DATA = next(
    (
        p / "data"
        for p in (Path(__file__).resolve().parents[1].parent / "shared", Path("/work/shared"))
        if (p / "data").is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "data",
)
TRAIN = DATA / "squad11-train" / "squad11_train_paragraphs.jsonl.gz"
OUTPUTS = ["relevance", "start", "end"]


@dataclass(frozen=True)
class Subject:
    """What a recipe is made for: the reader, or the verifier beside it."""

    network: Callable[[], object]  # a fresh torch network (eager attention)
    tokenizer: object  # truncating as the service's
    max_answer_tokens: int
    per_call: int  # pairs a call reads, as the service reads them
    width: int  # neighbours read on each side of a sentence
    file: str  # the recipe's file
    weights: str  # the weights it is made for
    card: str  # the JSON file that records it


def subject(model: Path, verifier: bool) -> Subject:
    if verifier:
        meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
        return Subject(
            lambda: verifier_network(model),
            verifier_tokenizer(model),
            int(meta["max_answer_tokens"]),
            1,
            WIDTH,
            VERIFIER_RECIPE,
            VERIFIER,
            VERIFIER_META,
        )
    reader = CrossModel(model, runtime="onnx")
    return Subject(
        lambda: load_network(model, attention="eager")[0],
        reader.tokenizer,
        reader.max_answer_tokens,
        3,
        0,
        FILE,
        WEIGHTS,
        "meta.json",
    )


def pairs(path: Path, questions: int, seed: int, width: int = 0) -> tuple[list, list]:
    """(calibration pairs, check pairs): (question, sentence) pairs of ``questions``
    questions each, from paragraphs shuffled with ``seed``; up to 3 questions a paragraph,
    each with up to 4 of its paragraph's sentences (each with ``width`` neighbours either
    side)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        paragraphs = [json.loads(line) for line in f]
    random.Random(seed).shuffle(paragraphs)
    halves: list[list] = [[], []]
    asked = 0
    for p in paragraphs:
        if asked >= 2 * questions:
            break
        text = p["context"]
        spans = [(s.start, s.end) for s in split_sentences(text)]
        sentences = [text[slice(*window(spans, i, width))] for i in range(len(spans))][:4]
        for qa in p["qas"][:3]:
            halves[asked % 2] += [(qa["question"], s) for s in sentences]
            asked += 1
    return halves[0], halves[1]


def batches(tokenizer, rows: Sequence[tuple[str, str]], size: int = 3) -> list[tuple]:
    """Padded (ids, mask, types, context mask) of ``size`` pairs each, as the reader reads
    a question's candidates."""
    encodings = tokenizer.encode_batch(list(rows))
    return [pair_inputs(encodings[k : k + size]) for k in range(0, len(encodings), size)]


class Reads:
    """What a graph reads on the check batches: relevance logits, spans, ms per pair."""

    def __init__(self, graph: Path, checks: list[tuple], max_tokens: int) -> None:
        from index.graphs import Graph

        run = Graph(graph, threads=1)
        for b in checks[:10]:  # warm-up
            run(*b[:3])
        t0 = time.perf_counter()
        outs = [run(*b[:3]) for b in checks]
        pairs_read = sum(len(b[0]) for b in checks)
        self.ms = (time.perf_counter() - t0) * 1000 / pairs_read
        self.relevance = np.concatenate([o[0] for o in outs])
        self.spans = [
            span[:2]
            for o, b in zip(outs, checks, strict=True)
            for span in best_spans(o[1], o[2], b[3], max_tokens)
        ]

    def agreement(self, exact: Reads) -> tuple[float, float]:
        """(share of pairs with the same span as ``exact``, mean |relevance difference|)."""
        same = float(np.mean([a == b for a, b in zip(self.spans, exact.spans, strict=True)]))
        return same, float(np.abs(self.relevance - exact.relevance).mean())


def main(argv: Sequence[str] | None = None) -> Recipe:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL_DIR, help="the reader's folder")
    parser.add_argument(
        "--verifier", action="store_true", help="the recipe of the verifier beside the reader"
    )
    parser.add_argument("--paragraphs", type=Path, default=TRAIN, help="SQuAD 1.1 train")
    parser.add_argument(
        "--questions", type=int, default=300, help="calibration questions (and as many to check)"
    )
    parser.add_argument("--alphas", default="0.5,0.7,0.85,1.0", help="smoothing strengths tried")
    parser.add_argument("--keep", type=int, default=3, help="linear layers kept in fp32")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.model / "meta.json").is_file():
        parser.error(f"{args.model} holds no trained reader (meta.json)")
    if args.verifier and not (args.model / VERIFIER).is_file():
        parser.error(f"{args.model} holds no verifier ({VERIFIER}: python -m train.train_verifier)")
    if not args.paragraphs.is_file():
        parser.error(f"{args.paragraphs} not found (SQuAD 1.1 train paragraphs, .jsonl.gz)")
    alphas = [float(a) for a in args.alphas.split(",")]

    from index.graphs import export, quantize_file, quantize_products

    it = subject(args.model, args.verifier)
    calibration, check = pairs(args.paragraphs, args.questions, args.seed, it.width)
    model = it.network()
    maxima = input_maxima(
        model.eval(), [b[:3] for b in batches(it.tokenizer, calibration, it.per_call)]
    )
    checks = batches(it.tokenizer, check, it.per_call)
    layers = list(linear_layers(model))
    print(f"{len(calibration)} calibration and {len(check)} check pairs", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        export(model, work / "fp32.onnx", OUTPUTS)
        exact = Reads(work / "fp32.onnx", checks, it.max_answer_tokens)
        few = checks[: len(checks) // 3]
        quick = Reads(work / "fp32.onnx", few, it.max_answer_tokens)
        print(f"fp32: {exact.ms:.2f} ms per pair", flush=True)
        quantize_file(work / "fp32.onnx", work / "plain.onnx")  # index.graphs.quantized's
        plain = Reads(work / "plain.onnx", checks, it.max_answer_tokens)
        same, drift = plain.agreement(exact)
        print(
            f"plain int8 (no recipe): span same {same:.4f}, relevance drift {drift:.4f}, "
            f"{plain.ms:.2f} ms per pair",
            flush=True,
        )

        exported: dict[float, Path] = {}  # the smoothed fp32 graph of each alpha

        def tried(alpha: float, keep: Sequence[str], name: str, on: list[tuple]) -> Reads:
            if alpha not in exported:
                fresh = it.network()
                recipe = Recipe(scales(fresh, maxima, alpha), alpha, ())
                exported[alpha] = work / f"smoothed-{alpha}.onnx"
                export(smoothed(fresh.eval(), recipe), exported[alpha], OUTPUTS)
            path = work / "int8.onnx"
            quantize_products(exported[alpha], path, [graph_node(k) for k in keep])
            reads = Reads(path, on, it.max_answer_tokens)
            same, drift = reads.agreement(exact if on is checks else quick)
            print(
                f"{name}: span same {same:.4f}, relevance drift {drift:.4f}, "
                f"{reads.ms:.2f} ms per pair",
                flush=True,
            )
            return reads

        read_with = {a: tried(a, [], f"alpha {a}", checks) for a in alphas}

        def by_agreement(alpha: float) -> tuple[float, float]:
            same, drift = read_with[alpha].agreement(exact)
            return same, -drift

        best = max(alphas, key=by_agreement)
        final = read_with[best]
        keep: list[str] = []
        if args.keep:
            # each layer's harm: the disagreement when it alone is quantized (on a third of
            # the check pairs: 36 layers)
            harm = {}
            for layer in layers:
                others = [k for k in layers if k != layer]
                same, drift = tried(best, others, f"only {layer}", few).agreement(quick)
                harm[layer] = (1 - same, drift)
            keep = sorted(layers, key=lambda k: harm[k], reverse=True)[: args.keep]
            final = tried(best, keep, f"alpha {best}, keeping {', '.join(keep)}", checks)
        print(f"{final.ms / exact.ms:.2f}x fp32's time per pair", flush=True)
    recipe = Recipe(scales(it.network(), maxima, best), best, tuple(keep))
    path = recipe.save(args.model, it.file, it.weights)
    card_path = args.model / it.card
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["int8"] = {
        "command": "python -m train.quantize "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "alpha": best,
        "keep_fp32": list(keep),
        "calibration": f"{len(calibration)} pairs of {args.questions} SQuAD 1.1 train questions",
        "checked_pairs": len(check),
        "same_span": round(final.agreement(exact)[0], 4),
        "plain_same_span": round(plain.agreement(exact)[0], 4),
        "time_of_fp32": round(final.ms / exact.ms, 2),
    }
    card_path.write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    write_card(args.model, json.loads((args.model / "meta.json").read_text(encoding="utf-8")))
    print(f"wrote {path} (alpha {best}, {len(keep)} layers in fp32) and the model card")
    return recipe


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
