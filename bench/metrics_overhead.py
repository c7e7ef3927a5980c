"""Benchmark: what GET /metrics' request instrumentation adds to each request.

    .venv/bin/python bench/metrics_overhead.py [--requests 5000]

Two apps with the same trivial route, one instrumented as qa's app is
(``qa.http.metrics.include_metrics``), are called in process through ASGI (no sockets, so the
difference is the middleware's own cost), in alternating blocks so that the machine's
changing load falls on both alike. Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import print_cpu
from qa.http.metrics import include_metrics


def app(instrumented: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/documents/{doc_id:path}")
    async def read(doc_id: str) -> dict:
        return {"id": doc_id}

    if instrumented:
        include_metrics(app)
    return app


async def block(client: httpx.AsyncClient, n: int) -> float:
    """Mean microseconds per request over ``n`` requests."""
    t0 = time.perf_counter()
    for i in range(n):
        (await client.get(f"/documents/notes-{i % 50}.txt")).raise_for_status()
    return (time.perf_counter() - t0) / n * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    print_cpu()
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app(metered)), base_url="http://t")
        for name, metered in (("plain", False), ("instrumented", True))
    }
    for client in clients.values():
        await block(client, 200)  # warm-up
    means: dict[str, list[float]] = {name: [] for name in clients}
    size = 250
    for b in range(args.requests // size):
        order = list(clients) if b % 2 == 0 else list(reversed(clients))
        for name in order:
            means[name].append(await block(clients[name], size))
    for client in clients.values():
        await client.aclose()
    plain = statistics.median(means["plain"])
    metered = statistics.median(means["instrumented"])
    print(f"{args.requests} requests per app, median of {len(means['plain'])} blocks")
    print(f"plain app:        {plain:.0f} us per request (ASGI in process)")
    print(f"instrumented app: {metered:.0f} us per request")
    print(f"the middleware:   {metered - plain:.0f} us per request")


if __name__ == "__main__":
    asyncio.run(main())
