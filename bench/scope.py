"""Benchmark: what scoping a question costs. The same questions asked of the same engine
(in this process, as `qa serve` answers them) over the whole collection, scoped to the
question's own document, to the 20 documents around it (by name: its article's), to the
tag of the half of the collection that holds it, and to the tag of the other half;
interleaved, so the machine's changing load favours none.

    .venv/bin/python bench/scope.py [--docs DIR] [--qa QA.jsonl] [--questions 100] [--index-dir DIR]

The default collection is squad11-dev13 (856 documents; the 857-document collection with the
seed article, which is added). Builds the index once into --index-dir (reused when there),
the first half of the documents by name tagged "first", the others "second". Prints, per
kind, p50 and p90 of the whole answer, its ratio to the unscoped p50, and the p50 of
retrieval alone (where the scope acts: the rest of the answer's time depends on what was
found, so a question scoped away from its answer is another question). Asserts nothing."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import print_cpu

ROOT = Path(__file__).resolve().parents[1]
DEV13 = ROOT.parent / "shared" / "data" / "squad11-dev13"


def build(docs: Path, index_dir: Path) -> None:
    from index.build import build as build_index
    from index.embed import load_embedder
    from index.read import read_documents
    from index.store import save_index
    from qa.settings import Settings

    settings = Settings()
    documents = read_documents([docs, ROOT / "seeds"])
    first = set(sorted(d.doc_id for d in documents)[: len(documents) // 2])
    documents = [replace(d, tags=("first" if d.doc_id in first else "second",)) for d in documents]
    embedder = load_embedder(settings.model)
    index = build_index(documents, embedder, settings.chunking)
    index.generation = 1
    save_index(index, index_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=DEV13 / "docs")
    parser.add_argument("--qa", type=Path, default=DEV13 / "qa.jsonl")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--index-dir", type=Path, default=ROOT / "data" / "bench-scope")
    args = parser.parse_args()
    print_cpu()

    from qa.engine import Engine
    from qa.settings import Settings

    if not (args.index_dir / "manifest.json").is_file():
        t0 = time.perf_counter()
        build(args.docs, args.index_dir)
        print(f"indexed {args.docs} in {time.perf_counter() - t0:.0f} s")
    engine = Engine(Settings(index_dir=args.index_dir))
    ids = sorted(e.doc_id for e in engine.documents())
    half = {e.doc_id: e.tags[0] for e in engine.documents()}
    other = {"first": "second", "second": "first"}
    items = [json.loads(line) for line in args.qa.read_text(encoding="utf-8").splitlines()]
    step = max(1, len(items) // args.questions)
    items = items[::step][: args.questions]

    def neighbours(doc: str) -> list[str]:
        at = ids.index(doc)
        return ids[max(0, at - 10) : at + 10]

    kinds = {
        "unscoped": lambda item: {},
        "its document": lambda item: {"documents": [item["doc"]]},
        "20 documents": lambda item: {"documents": neighbours(item["doc"])},
        "its half (tag)": lambda item: {"tags": [half[item["doc"]]]},
        "other half": lambda item: {"tags": [other[half[item["doc"]]]]},
    }
    for item in items[:5]:  # warm up: models, caches
        engine.ask(item["question"])
    times: dict[str, list[float]] = {k: [] for k in kinds}
    retrieval: dict[str, list[float]] = {k: [] for k in kinds}
    for item in items:
        for kind, scope in kinds.items():
            t0 = time.perf_counter()
            result = engine.ask(item["question"], **scope(item))
            times[kind].append((time.perf_counter() - t0) * 1000)
            retrieval[kind].append(result.timings_ms["retrieve"])
    base = statistics.median(times["unscoped"])
    print(f"{len(items)} questions, {len(ids)} documents, {engine.counts().passages} passages")
    print(f"{'scope':<16} {'p50 ms':>8} {'p90 ms':>8} {'p50 / unscoped':>15} {'retrieve p50':>13}")
    for kind, ms in times.items():
        p50, p90 = statistics.median(ms), statistics.quantiles(ms, n=10)[-1]
        found = statistics.median(retrieval[kind])
        print(f"{kind:<16} {p50:8.1f} {p90:8.1f} {p50 / base:15.2f} {found:13.1f}")


if __name__ == "__main__":
    main()
