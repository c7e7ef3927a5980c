"""Benchmark: ingest time of the seed corpus and /ask latency over HTTP, on a quiet
machine and with a second process keeping one core busy, at 1 and 2 torch threads.

    .venv/bin/python bench/latency.py [--docs seeds] [--repeat 3] [--against REV] [--variant K=V]

The tree is measured twice: as it answers by default (with the trained cross-encoder
when its weights are there) and with QA_TRAINED_MODEL=false (the heuristics alone).
--against REV also measures the code of git revision REV (checked out into a temporary
worktree, same virtual environment, same run), e.g. the walking skeleton 08cc55b.
All the servers of one thread count run at once and every question is asked of each in
turn, so the machine's changing load does not favour the one measured at a quiet moment;
the ratios of the p50s are printed at the end.

Prints figures; asserts nothing. Talks only to 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import print_cpu
from bench.trees import ROOT, add_options, checkout, qa_index, variants

QUESTIONS = [
    "How many troops were shipped?",
    "How many special forces troops did North Korea ship to Russia?",
    "Where were the troops shipped?",
    "Who said North Korea shipped troops?",
    "When did the spy agency make its statement?",
    "How many containers did North Korea ship?",
    "Since when has North Korea shipped artillery rounds to Russia?",
    "How many artillery and rocket rounds have been shipped to Russia?",
    "Who is the President of South Korea?",
    "What did Yoon Suk Yeol call?",
    "Which technology did the NIS use to identify officers?",
    "In which region were North Korean officers identified?",
    "Who is NATO's chief?",
    "How many soldiers did Zelenskiy say North Korea would send?",
    "Which fleet moved the troops to Vladivostok?",
    "When were the troops moved to Vladivostok?",
    "What were the troops supplied with?",
    "How many active duty troops does North Korea have?",
    "Who works at King's College in London?",
    "What does South Korea export?",
    "When did Russia and North Korea sign a partnership?",
    "What does the partnership include?",
    "Who denies the arms transfers?",
    "What is Seoul's red line according to Ramon Pacheco Pardo?",
    "Which country has pressured South Korea to arm Ukraine?",
    "What is the population of Vladivostok?",
    "Who won the 2022 World Cup?",
    "What is the capital of Australia?",
    "How much does a fighter jet cost?",
    "What did the Kremlin dismiss?",
]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def busy_core(enabled: bool):
    proc = None
    if enabled:
        proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        if proc:
            proc.kill()
            proc.wait()


@contextmanager
def server(index_dir: Path, threads: int, cwd: Path = ROOT, extra: dict | None = None):
    port = free_port()
    env = {
        **os.environ,
        "QA_INDEX_DIR": str(index_dir),
        "QA_TORCH_THREADS": str(threads),
        "QA_RATE_LIMIT": "0",  # the benchmark asks more than a client may in a minute
        **(extra or {}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).json().get("ready"):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not become ready")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure(urls: dict[str, str], repeat: int) -> dict[str, list[float]]:
    """Each question asked of every server in turn (the order rotating), so a change in
    the machine's load over the run falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in urls}
    clients = {name: httpx.Client(base_url=url, timeout=60) for name, url in urls.items()}
    try:
        for client in clients.values():
            for q in QUESTIONS[:3]:  # warm-up
                client.post("/ask", json={"question": q}).raise_for_status()
        names = list(clients)
        for r in range(repeat):
            for k, q in enumerate(QUESTIONS):
                turn = (r * len(QUESTIONS) + k) % len(names)
                for name in names[turn:] + names[:turn]:
                    t0 = time.perf_counter()
                    clients[name].post("/ask", json={"question": q}).raise_for_status()
                    times[name].append((time.perf_counter() - t0) * 1000)
    finally:
        for client in clients.values():
            client.close()
    return times


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    parser.add_argument("--repeat", type=int, default=3)
    add_options(parser)
    args = parser.parse_args()
    print_cpu()
    args.docs = args.docs.resolve()

    with tempfile.TemporaryDirectory() as tmp, checkout(args.against, Path(tmp)) as other:
        index_dir = Path(tmp) / "index"
        t0 = time.perf_counter()
        qa_index(args.docs, index_dir)
        ingest = time.perf_counter() - t0
        from index.build import build
        from index.chunk import Chunking
        from index.embed import MiniLMEmbedder
        from index.read import read_documents

        embedder = MiniLMEmbedder()
        docs = read_documents([args.docs])
        t0 = time.perf_counter()
        built = build(docs, embedder, Chunking())
        build_s = time.perf_counter() - t0
        n_sent = len(built.sentences)
        print(f"corpus: {args.docs} ({len(docs)} documents, {n_sent} sentences)")
        print(
            f"ingest, `qa index` end to end (process start, model load, embed, write): {ingest:.2f} s"
        )
        print(f"ingest, split + embed + BM25 with the model loaded: {build_s:.2f} s")
        print()
        print(
            f"/ask over HTTP, {len(QUESTIONS)} questions x {args.repeat}, sequential, "
            "each asked of every server in turn"
        )
        print("| code | threads | other core | p50 ms | p95 ms | max ms |")
        print("|---|---|---|---|---|---|")
        trees = [
            ("this tree", ROOT, index_dir, {}),
            ("this tree, heuristics only", ROOT, index_dir, {"QA_TRAINED_MODEL": "false"}),
        ]
        trees += [(name, ROOT, index_dir, env) for name, env in variants(args).items()]
        if other is not None:
            other_index = Path(tmp) / "against-index"
            qa_index(args.docs, other_index, cwd=other)
            trees.append((args.against, other, other_index, {}))
        ratios = []
        for threads in (1, 2):
            with ExitStack() as stack:
                urls = {
                    name: stack.enter_context(server(idx, threads, cwd, extra))
                    for name, cwd, idx, extra in trees
                }
                for busy in (False, True):
                    with busy_core(busy):
                        times = measure(urls, args.repeat)
                    load = "busy" if busy else "idle"
                    for name, t in times.items():
                        print(
                            f"| {name} | {threads} | {load} | {pct(t, 50):.1f} | "
                            f"{pct(t, 95):.1f} | {max(t):.1f} |"
                        )
                    p50 = {name: pct(t, 50) for name, t in times.items()}
                    ratios.append(
                        f"{threads} thread{'s' if threads > 1 else ''}, {load}: "
                        + ", ".join(
                            f"{p50['this tree'] / p50[name]:.2f}x {name}"
                            for name in p50
                            if name != "this tree"
                        )
                    )
        print()
        print("p50 of this tree against the others (same run, interleaved):")
        for line in ratios:
            print(f"  {line}")


if __name__ == "__main__":
    main()
