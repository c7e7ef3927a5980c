"""`qa index` and `qa ask` with QA_STORE=milvus, as a user runs them: the folder's documents
go into Milvus, a second run brings it up to date (changed, removed, uploads kept)."""

from __future__ import annotations

import json
import os

from index.read import Document
from index.stores.milvus import MilvusStore, connect
from tests.conftest import SEED_FILE
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
