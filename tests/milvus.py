"""A real Milvus for the tests: `milvus-lite server` (from the `milvus` extra) on a free
loopback port, in its own process, as a cluster would be to `qa serve`."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(uri: str) -> bool:
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    from index.stores.milvus import GRPC_OPTIONS

    try:
        client = MilvusClient(uri, timeout=2, grpc_options=GRPC_OPTIONS)
    except MilvusException:
        return False
    try:
        client.list_collections()
        return True
    except MilvusException:
        return False
    finally:
        client.close()


@contextmanager
def milvus_lite_server(data_dir: Path) -> Iterator[str]:
    """Run `milvus-lite server --data-dir DATA_DIR` on a free loopback port until the block
    ends; yield its URI once it answers the Milvus protocol."""
    port = _free_port()
    log = data_dir.parent / f"{data_dir.name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "milvus_lite",
                "server",
                "--data-dir",
                str(data_dir),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--max-workers",
                "16",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"milvus-lite server exited with status {proc.returncode} before answering "
                    f"(is the `milvus` extra installed?): {log.read_text(errors='replace')[-800:]}"
                )
            if _port_open(port) and _answers(uri):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"milvus-lite server did not answer on {uri} within {STARTUP_SECONDS} s: "
                    f"{log.read_text(errors='replace')[-800:]}"
                )
            time.sleep(0.2)
        yield uri
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0
