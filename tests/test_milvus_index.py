"""`qa index` and `qa ask` with QA_STORE=milvus, as a user runs them: the folder's documents
go into Milvus, a second run brings it up to date (changed, removed, uploads kept)."""

from __future__ import annotations

import json
import os

import httpx

from index.read import Document
from index.stores.milvus import MilvusStore, connect
from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import SEED_FILE, running
from tests.stores import new_documents
from tests.test_cli import run
from tests.test_store_contract import EIFFEL, LEAVES


def test_qa_index_and_ask_on_milvus(tmp_path, embedder, milvus_uri, milvus_prefix):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "eiffel.txt").write_text(EIFFEL, encoding="utf-8")
    (docs / "leaves.txt").write_text(LEAVES, encoding="utf-8")
    env = {"QA_STORE": "milvus", "QA_MILVUS_URI": milvus_uri, "QA_MILVUS_PREFIX": milvus_prefix}
    r = run("index", str(docs), env=env)
    assert r.returncode == 0, r.stderr
    assert "indexed 2 documents" in r.stdout and milvus_prefix in r.stdout

    r = run("ask", "When was the Eiffel Tower completed?", "--json", env=env)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert "1889" in body["answer"]
    assert all(EIFFEL[c["start"] : c["end"]] == c["text"] for c in body["citations"])

    # an upload (it exists nowhere else), a change and a removal in the folder
    store = MilvusStore(connect(milvus_uri), milvus_prefix)
    seed = Document(SEED_FILE.name, SEED_FILE.read_text(encoding="utf-8"), uploaded=True)
    store.add(new_documents([seed], embedder))
    (docs / "eiffel.txt").write_text(EIFFEL + " It was repainted in 2024.", encoding="utf-8")
    os.remove(docs / "leaves.txt")
    r = run("index", str(docs), env=env)
    assert r.returncode == 0, r.stderr
    assert "kept 1 uploaded document" in r.stdout
    store.refresh()
    assert {e.doc_id for e in store.documents()} == {"eiffel.txt", SEED_FILE.name}
    assert store.document("eiffel.txt").text.endswith("repainted in 2024.")


def test_the_first_upload_starts_the_index_in_milvus(embedder, milvus_uri, milvus_prefix, tmp_path):
    settings = Settings(
        store="milvus",
        milvus_uri=milvus_uri,
        milvus_prefix=milvus_prefix,
        index_dir=tmp_path / "unused",
    )
    with (
        running(create_app(settings, embedder=embedder)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        assert client.get("/health").json()["ready"] is False
        r = client.post(
            "/documents",
            files={"file": ("eiffel.txt", EIFFEL.encode())},
            headers={"X-Requested-With": "tests"},
        )
        assert r.status_code == 201, r.text
        health = client.get("/health").json()
        assert health["documents"] == 1 and health["store"] == "milvus"
        body = client.post("/ask", json={"question": "How tall is the Eiffel Tower?"}).json()
        assert "330" in body["answer"]
        assert not (tmp_path / "unused").exists()  # nothing of it on this machine's disk
        r = client.delete("/documents/eiffel.txt", headers={"X-Requested-With": "tests"})
        assert r.status_code == 409  # as with the folder: an index keeps one document


def test_milvus_lite_in_the_process_from_a_db_path(tmp_path):
    """QA_MILVUS_URI=PATH.db: Milvus Lite inside each command; what one wrote, the next
    reads (its collections loaded again after the restart)."""
    env = {"QA_STORE": "milvus", "QA_MILVUS_URI": str(tmp_path / "milvus.db")}
    r = run("index", str(SEED_FILE), env=env)
    assert r.returncode == 0, r.stderr
    r = run("ask", "How many troops were shipped?", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert "1,500" in json.loads(r.stdout)["answer"]
