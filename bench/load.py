"""Load benchmark: many concurrent clients against a real `qa serve` on loopback.

    .venv/bin/python bench/load.py [--clients 64] [--requests 20] [--inflight N]

Indexes the seed corpus, starts `qa serve` (default limits, or QA_MAX_INFLIGHT=N), measures
/ask from one client alone (the baseline), then from CLIENTS clients at once, each asking
REQUESTS questions in turn (after a 503 a client waits 0.5-1.5 times the Retry-After).
Prints: the baseline p50/p95; for the concurrent run, how many questions were admitted
(200) and refused (503, with Retry-After), their p50/p95, anything else as errors, and the
admitted p95 over the baseline p95 (the aim: at most 3x, the rest refused at once, no
errors). Prints figures; asserts nothing. Talks only to 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import QUESTIONS, ROOT, pct, server

from bench.machine import print_cpu


def baseline(url: str, repeat: int) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for q in QUESTIONS[:3]:  # warm-up
            client.post("/ask", json={"question": q}).raise_for_status()
        for _ in range(repeat):
            for q in QUESTIONS:
                t0 = time.perf_counter()
                client.post("/ask", json={"question": q}).raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
    return times


async def crowd(url: str, clients: int, requests: int) -> dict[str, list]:
    results: dict[str, list] = {"admitted": [], "refused": [], "errors": []}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one(c: int) -> None:
            rng = random.Random(c)
            for k in range(requests):
                q = QUESTIONS[(c + k) % len(QUESTIONS)]
                t0 = time.perf_counter()
                try:
                    r = await client.post("/ask", json={"question": q})
                except httpx.HTTPError as exc:
                    results["errors"].append(repr(exc))
                    continue
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code == 200:
                    results["admitted"].append(ms)
                elif r.status_code == 503 and r.headers.get("retry-after"):
                    results["refused"].append(ms)
                    # a polite client: waits about as long as it was told (jittered)
                    await asyncio.sleep(float(r.headers["retry-after"]) * rng.uniform(0.5, 1.5))
                else:
                    results["errors"].append(f"{r.status_code} {r.text[:100]}")

        await asyncio.gather(*(one(c) for c in range(clients)))
    return results


def summary(values: list[float]) -> str:
    if len(values) < 2:
        return f"n={len(values)}"
    return (
        f"n={len(values)}  p50 {statistics.median(values):.1f} ms  p95 {pct(values, 95):.1f} ms"
        f"  max {max(values):.1f} ms"
    )


def index_seeds(index_dir: Path) -> None:
    """``qa index seeds/`` into ``index_dir``, as a user runs it."""
    command = [sys.executable, "-m", "qa", "index", str(ROOT / "seeds"), "--index-dir"]
    subprocess.run([*command, str(index_dir)], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=20, help="questions per client")
    parser.add_argument("--repeat", type=int, default=2, help="baseline passes over 30")
    parser.add_argument("--inflight", type=int, help="QA_MAX_INFLIGHT for the server")
    args = parser.parse_args()
    print_cpu()

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        index_seeds(index_dir)
        extra = {"QA_MAX_INFLIGHT": str(args.inflight)} if args.inflight else {}
        with server(index_dir, 1, extra=extra) as url:
            alone = baseline(url, args.repeat)
            t0 = time.perf_counter()
            results = asyncio.run(crowd(url, args.clients, args.requests))
            wall = time.perf_counter() - t0
    inflight = args.inflight or os.environ.get("QA_MAX_INFLIGHT", "default")
    print(f"seed corpus, /ask over loopback, QA_MAX_INFLIGHT={inflight}, 1 torch thread")
    print(f"one client alone ({len(QUESTIONS)} questions x {args.repeat}): {summary(alone)}")
    total = args.clients * args.requests
    print(f"{args.clients} clients x {args.requests} questions ({total}) in {wall:.1f} s:")
    print(f"  admitted (200): {summary(results['admitted'])}")
    print(f"  refused (503 + Retry-After): {summary(results['refused'])}")
    print(f"  errors: {len(results['errors'])} {results['errors'][:3]}")
    if results["admitted"] and len(alone) > 1:
        ratio = pct(results["admitted"], 95) / pct(alone, 95)
        print(f"  admitted p95 / alone p95: {ratio:.2f}x (aim: at most 3x)")
        print(f"  throughput: {len(results['admitted']) / wall:.1f} answers/s")


if __name__ == "__main__":
    main()
