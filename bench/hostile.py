"""Benchmark: the security tester's hostile uploads against a real server, and what a tiny
upload and delete cost after them; or (``--attacks``) each attack of issue 30 replayed
against a live server while a legitimate client asks a question a second.

    .venv/bin/python bench/hostile.py [--index-dir runs/dev13/index]
    .venv/bin/python bench/hostile.py --attacks [--seconds 60] [--only idle-sockets ...]

Copies the index (default: a fresh index of seeds/), serves it on loopback, then times:
each hostile upload (an 11 KB PDF of 500,000 text operators, 176 KB and 1.1 MB of nested
<div>s, 24 KB of "a. " x 8000), and a tiny upload and its delete after them. With
``--attacks`` (bench/attacks.py): the legitimate client alone first, then beside each
attack in turn, printing what it saw (answered, p50, p95, p95 against its quiet p95).
Prints figures; asserts nothing. Talks only to 127.0.0.1 (the attackers from 127.0.0.2)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.machine import print_cpu


def main() -> None:
    from bench.latency import server
    from bench.load import index_seeds
    from tests.pdf import flooded_pdf

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--attacks", action="store_true", help="replay issue 30's attacks")
    parser.add_argument("--seconds", type=float, default=60, help="the client's time per attack")
    parser.add_argument("--only", nargs="*", help="these attacks only (bench/attacks.py names)")
    args = parser.parse_args()
    print_cpu()
    if args.attacks:
        from bench.attacks import replay

        replay(args.index_dir, args.seconds, args.only)
        return
    uploads = [
        ("flood.pdf", flooded_pdf(500_000)),
        ("divs.html", b"<div>" * 16_000 + b"Deep." + b"</div>" * 16_000),
        ("divs-big.html", b"<div>" * 100_000 + b"Deep." + b"</div>" * 100_000),
        ("many.txt", b"a. " * 8000),
        ("tiny.txt", b"The harbour board meets on Tuesdays."),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        if args.index_dir:
            shutil.copytree(args.index_dir, index_dir)
        else:
            index_seeds(index_dir)
        with server(index_dir, 1) as url, httpx.Client(base_url=url, timeout=600) as client:
            documents = len(client.get("/documents").json())
            print(f"index of {documents} documents ({args.index_dir or 'seeds/'})")
            print("| request | bytes | status | seconds | detail |")
            print("|---|---|---|---|---|")
            for name, data in uploads:
                t0 = time.perf_counter()
                r = client.post("/documents", files={"file": (name, data)})
                took = time.perf_counter() - t0
                detail = r.json().get("detail", f"{r.json().get('sentences')} sentences")
                print(
                    f"| upload {name} | {len(data):,} | {r.status_code} | {took:.2f} | {detail} |"
                )
            t0 = time.perf_counter()
            r = client.delete("/documents/tiny.txt")
            took = time.perf_counter() - t0
            print(f"| delete tiny.txt | | {r.status_code} | {took:.2f} | |")


if __name__ == "__main__":
    main()
