"""Benchmark: how fast each runtime embeds documents (texts/s), and how near its vectors are
to torch fp32's: what ``QA_INDEX_RUNTIME=auto`` chooses between (index/networks.py).

    .venv/bin/python bench/embed.py [--documents 120] [--rounds 3] [--threads 1]

The sentences of the first dev13 documents, in batches of 32 longest first as `qa index`
embeds them; the runtimes take turns in each round and the best round is kept. torch bf16 is
skipped where the CPU has no native bf16. Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import print_cpu
from bench.scale import DEV13


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print_cpu()
    import torch

    from index.embed import MiniLMEmbedder
    from index.precision import bf16_native
    from index.split import split_sentences

    torch.set_num_threads(args.threads)
    texts = []
    for path in sorted((DEV13 / "docs").iterdir())[: args.documents]:
        text = path.read_text(encoding="utf-8")
        texts += [text[s.start : s.end] for s in split_sentences(text)]
    runtimes = {
        "torch fp32": MiniLMEmbedder(runtime="torch", bf16=False),
        "onnx fp32": MiniLMEmbedder(runtime="onnx", threads=args.threads),
        # smoothed by its recipe (index/models/minilm-smoothing.safetensors) where it ships
        "onnx int8": MiniLMEmbedder(runtime="int8", threads=args.threads),
    }
    if bf16_native():
        runtimes["torch bf16"] = MiniLMEmbedder(runtime="torch", bf16=True)
    exact = runtimes["torch fp32"].encode(texts)
    best = dict.fromkeys(runtimes, float("inf"))
    for _ in range(args.rounds):
        for name, embedder in runtimes.items():
            t0 = time.perf_counter()
            embedder.encode(texts)
            best[name] = min(best[name], time.perf_counter() - t0)
    print(f"{len(texts)} sentences, {args.threads} thread(s), best of {args.rounds} rounds")
    print("| runtime | texts/s | least cosine to torch fp32 |")
    print("|---|---|---|")
    for name, embedder in runtimes.items():
        near = float((embedder.encode(texts) * exact).sum(axis=1).min())
        label = f"{name} (smoothed)" if getattr(embedder, "smoothed", False) else name
        print(f"| {label} | {len(texts) / best[name]:.0f} | {near:.5f} |")


if __name__ == "__main__":
    main()
