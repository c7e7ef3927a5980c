"""Two `qa serve` processes on one Milvus, as replicas behind a load balancer: what one is
given, the other answers from; what one deletes is gone from both; a replica killed in the
middle of an upload leaves nothing of the document visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from index.read import Document
from index.stores.milvus import connect
from index.stores.milvus_rows import MilvusRows, doc_hash
from tests.conftest import SEED_FILE, free_port
from tests.stores import make_store
from tests.test_store_contract import EIFFEL

pytestmark = pytest.mark.slow
WRITE = {"X-Requested-With": "tests"}


@contextmanager
def replica(
    milvus_uri: str, prefix: str, tmp_path
) -> Iterator[tuple[httpx.Client, subprocess.Popen]]:
    """`qa serve` on a free loopback port with QA_STORE=milvus; its client once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "QA_STORE": "milvus",
        "QA_MILVUS_URI": milvus_uri,
        "QA_MILVUS_PREFIX": prefix,
        "QA_INDEX_DIR": str(tmp_path / "unused"),
        "QA_PORT": str(port),
        "QA_WRITE_RATE_LIMIT": "0",
    }
    log = open(tmp_path / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "qa", "serve"], env=env, stdout=log, stderr=log)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
            try:
                if client.get("/health").json()["ready"]:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "qa serve did not become ready"
            time.sleep(0.3)
        yield client, proc
    finally:
        client.close()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        log.close()


@pytest.fixture()
def seeded(milvus_uri, milvus_prefix, embedder, tmp_path) -> str:
    seed = Document(SEED_FILE.name, SEED_FILE.read_text(encoding="utf-8"), added_by="cli")
    make_store("milvus", [seed], embedder, folder=tmp_path, milvus=(milvus_uri, milvus_prefix))
    return milvus_prefix


def cited(client: httpx.Client, question: str) -> set[str]:
    r = client.post("/ask", json={"question": question})
    assert r.status_code == 200, r.text
    return {c["doc_id"] for c in r.json()["citations"]}


def test_upload_through_one_ask_and_delete_through_the_other(milvus_uri, seeded, tmp_path):
    with (
        replica(milvus_uri, seeded, tmp_path) as (a, _),
        replica(milvus_uri, seeded, tmp_path) as (b, _),
    ):
        r = a.post("/documents", files={"file": ("eiffel.txt", EIFFEL.encode())}, headers=WRITE)
        assert r.status_code == 201, r.text

        r = b.post("/ask", json={"question": "When was the Eiffel Tower completed?"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert "1889" in body["answer"]
        text = b.get("/documents/eiffel.txt").json()["text"]
        assert text == EIFFEL
        for c in body["citations"]:
            assert c["doc_id"] == "eiffel.txt" and text[c["start"] : c["end"]] == c["text"]
        assert [d["id"] for d in a.get("/documents").json()] == [
            d["id"] for d in b.get("/documents").json()
        ]

        r = b.delete("/documents/eiffel.txt", headers=WRITE)
        assert r.status_code == 200, r.text
        for client in (a, b):
            assert client.get("/documents/eiffel.txt").status_code == 404
            assert "eiffel.txt" not in {d["id"] for d in client.get("/documents").json()}
            assert "eiffel.txt" not in cited(client, "When was the Eiffel Tower completed?")
        assert cited(a, "How many troops were shipped?") == {SEED_FILE.name}


def test_a_replica_killed_mid_upload_leaves_no_half_document(milvus_uri, seeded, tmp_path):
    # long enough that its rows take many writes (embedded before the first of them)
    lines = [f"Entry {i}: the lighthouse keeper logged {i * 7} ships at dawn." for i in range(1500)]
    big = ("Harbour log\n" + "\n".join(lines)).encode()
    rows = MilvusRows(connect(milvus_uri), seeded)
    with replica(milvus_uri, seeded, tmp_path) as (b, _):
        with replica(milvus_uri, seeded, tmp_path) as (a, proc):
            upload = subprocess.Popen(  # the upload, from another process so it can hang up
                [sys.executable, "-c", _UPLOAD, str(a.base_url), "harbour.txt"],
                stdin=subprocess.PIPE,
            )
            upload.stdin.write(big)
            upload.stdin.close()
            deadline = time.monotonic() + 300
            while not rows.heads(f'part == 0 and doc == "{doc_hash("harbour.txt")}"'):
                assert upload.poll() is None, "the upload ended before its rows were written"
                assert time.monotonic() < deadline, "no write began"
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)  # in the middle of writing the document's rows
            proc.wait()
            upload.wait(timeout=60)
        (head,) = rows.heads(f'part == 0 and doc == "{doc_hash("harbour.txt")}"')
        assert head.state == "writing"  # the kill came before the commit
        assert "harbour.txt" not in {d["id"] for d in b.get("/documents").json()}
        assert b.get("/documents/harbour.txt").status_code == 404
        assert "harbour.txt" not in cited(b, "How many ships did the lighthouse keeper log?")
        # the same upload again, through the live replica, converges
        r = b.post("/documents", files={"file": ("harbour.txt", big)}, headers=WRITE)
        assert r.status_code == 201, r.text
        assert b.get("/documents/harbour.txt").json()["text"] == big.decode()
        assert "harbour.txt" in cited(b, "How many ships did the lighthouse keeper log at dawn?")


_UPLOAD = """
import sys, httpx
data = sys.stdin.buffer.read()
try:
    r = httpx.post(sys.argv[1] + "/documents", files={"file": (sys.argv[2], data)},
                   headers={"X-Requested-With": "tests"}, timeout=300)
    sys.exit(f"the upload finished: {r.status_code} {r.text}")
except httpx.TransportError:
    pass  # the replica was killed
"""
