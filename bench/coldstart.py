"""Benchmark: cold start (process start to the first /ask answer) and memory (RSS after 100
questions) of `qa serve` on the seed index, this tree against a git revision, taking turns.

    .venv/bin/python bench/coldstart.py [--against REV] [--rounds 5] [--variant K=V ...]

Each round starts one server of each tree in turn (alternating which goes first), so the
machine's changing load falls on both alike; the ONNX graphs' cache is warmed first (the
`qa index` run that builds each tree's index does it). Prints figures; asserts nothing.
Talks only to 127.0.0.1."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.latency import QUESTIONS
from bench.machine import print_cpu
from bench.scale import rss, started
from bench.trees import ROOT, add_options, checkout, qa_index, variants


def one(cwd: Path, index_dir: Path, env: dict) -> dict:
    """Cold start, then 100 questions, then memory, of one server."""
    command = [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port"]
    env = {"QA_INDEX_DIR": str(index_dir), "QA_RATE_LIMIT": "0", **env}
    with started(command, env, QUESTIONS[0], cwd=cwd) as (pid, url, cold):
        times = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for k in range(100):
                t = time.perf_counter()
                client.post("/ask", json={"question": QUESTIONS[k % len(QUESTIONS)]})
                times.append((time.perf_counter() - t) * 1000)
        return {"cold": cold, "rss": rss(pid), "p50": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    add_options(parser)
    args = parser.parse_args()
    print_cpu()
    with tempfile.TemporaryDirectory() as tmp, checkout(args.against, Path(tmp)) as other:
        trees = {"this tree": (ROOT, {})}
        trees.update({name: (ROOT, env) for name, env in variants(args).items()})
        if other is not None:
            trees[args.against] = (other, {})
        indexes = {}
        for k, (name, (cwd, env)) in enumerate(trees.items()):
            indexes[name] = Path(tmp) / f"index-{k}"
            qa_index(args.docs.resolve(), indexes[name], cwd=cwd, env=env)
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        names = list(trees)
        for r in range(args.rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                cwd, env = trees[name]
                runs[name].append(one(cwd, indexes[name], env))
    print(f"`qa serve` on {args.docs.name}/, {args.rounds} starts each, medians (min-max)")
    print("| code | cold start s | RSS MiB after 100 questions (own + mapped) | /ask p50 ms |")
    print("|---|---|---|---|")
    for name, results in runs.items():
        cold = [r["cold"] for r in results]
        mem = {k: statistics.median(r["rss"][k] for r in results) for k in results[0]["rss"]}
        p50 = statistics.median(r["p50"] for r in results)
        print(
            f"| {name} | {statistics.median(cold):.2f} ({min(cold):.2f}-{max(cold):.2f}) | "
            f"{mem['VmRSS']:.0f} ({mem['RssAnon']:.0f} + {mem['RssFile']:.0f}) | {p50:.1f} |"
        )
    mine = statistics.median(r["cold"] for r in runs["this tree"])
    others = [n for n in names if n != "this tree"]
    if others:
        print(
            "\ncold start of this tree: "
            + ", ".join(
                f"{mine / statistics.median(r['cold'] for r in runs[n]):.2f}x {n}" for n in others
            )
        )


if __name__ == "__main__":
    main()
