"""Benchmark: /ask latency with the index in Milvus beside the index folder (FAISS segments),
same documents, same vectors, same questions, in the same run.

    .venv/bin/python bench/milvus.py [--docs seeds] [--qa eval/seed_qa.jsonl] [--limit 100]
                                     [--repeat 1] [--index-dir DIR]

The folder is indexed with `qa index`, then copied into a Milvus Lite server started on a
loopback port (`qa migrate to-milvus`: no embedding again). One `qa serve` per store runs at
once and every question is asked of each in turn (bench/latency.py's `measure`), so the
machine's load falls on both alike. Prints p50/p95 per store, their ratio, and how many
answers (text and cited offsets) are the same. Asserts nothing; talks only to 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import latency
from bench.machine import print_cpu
from tests.milvus import milvus_lite_server


def qa(*args: str, env: dict | None = None) -> float:
    """Run `qa ARGS`; the seconds it took."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def answers(url: str, questions: list[str]) -> list[tuple]:
    with httpx.Client(base_url=url, timeout=120) as client:
        out = []
        for q in questions:
            body = client.post("/ask", json={"question": q}).raise_for_status().json()
            cites = tuple((c["doc_id"], c["start"], c["end"]) for c in body["citations"])
            out.append((body["answer"], body["abstained"], cites))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    parser.add_argument("--qa", type=Path, default=ROOT / "eval" / "seed_qa.jsonl")
    parser.add_argument("--limit", type=int, default=100, help="questions asked at most")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--index-dir", type=Path, help="an index folder of --docs already built (not indexed again)"
    )
    args = parser.parse_args()
    print_cpu()
    lines = args.qa.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][: args.limit]
    latency.QUESTIONS[:] = questions

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = args.index_dir or Path(tmp) / "index"
        took = (
            0.0
            if args.index_dir
            else qa("index", str(args.docs.resolve()), "--index-dir", str(folder))
        )
        uri = stack.enter_context(milvus_lite_server(Path(tmp) / "milvus"))
        milvus = {"QA_STORE": "milvus", "QA_MILVUS_URI": uri, "QA_MILVUS_PREFIX": "bench"}
        copied = qa("migrate", "to-milvus", "--index-dir", str(folder), env=os.environ | milvus)
        print(f"documents: {args.docs}; questions: {args.qa} ({len(questions)})")
        print(f"`qa index` into the folder: {took:.1f} s; `qa migrate to-milvus`: {copied:.1f} s")
        urls = {
            "faiss (index folder)": stack.enter_context(latency.server(folder, 1)),
            "milvus (milvus-lite on loopback)": stack.enter_context(
                latency.server(folder, 1, extra=milvus)
            ),
        }
        same = sum(
            a == b for a, b in zip(*(answers(url, questions) for url in urls.values()), strict=True)
        )
        times = latency.measure(urls, args.repeat)
        print(
            f"\n/ask over HTTP, 1 thread, {len(questions)} questions x {args.repeat}, interleaved"
        )
        print("| store | p50 ms | p95 ms |")
        print("|---|---|---|")
        for name, values in times.items():
            print(f"| {name} | {latency.pct(values, 50):.1f} | {latency.pct(values, 95):.1f} |")
        p50 = [latency.pct(v, 50) for v in times.values()]
        print(f"\nmilvus / faiss p50: {p50[1] / p50[0]:.2f}x")
        print(f"same answer and cited offsets: {same} of {len(questions)}")


if __name__ == "__main__":
    main()
