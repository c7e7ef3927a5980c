"""`qa migrate`: an index folder into Milvus and back, vectors and all, as a user runs it."""

from __future__ import annotations

import numpy as np

from index.build import index_paths
from index.chunk import Chunking
from index.store import load_index, vectors_of
from index.stores.milvus import MilvusStore, connect
from tests.conftest import SEEDS
from tests.test_cli import run
from tests.test_store_contract import EIFFEL


def test_a_folder_goes_to_milvus_and_back_unchanged(tmp_path, embedder, milvus_uri, milvus_prefix):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "eiffel.txt").write_text(EIFFEL, encoding="utf-8")
    (docs / SEEDS.joinpath("north-korea-troops-russia.txt").name).write_text(
        SEEDS.joinpath("north-korea-troops-russia.txt").read_text(encoding="utf-8"), "utf-8"
    )
    folder = tmp_path / "index"
    index_paths([docs], folder, embedder, Chunking())
    milvus = ["--milvus-uri", milvus_uri, "--milvus-prefix", milvus_prefix]

    r = run("migrate", "to-milvus", "--index-dir", str(folder), *milvus)
    assert r.returncode == 0, r.stderr
    assert "copied 2 documents" in r.stdout
    store = MilvusStore(connect(milvus_uri), milvus_prefix)
    original = load_index(folder)
    assert [e.doc_id for e in store.documents()] == original.doc_ids
    assert store.document("eiffel.txt").text == EIFFEL
    # a rerun writes nothing new and leaves the same documents
    r = run("migrate", "to-milvus", "--index-dir", str(folder), *milvus)
    assert r.returncode == 0, r.stderr
    store.refresh()
    assert store.counts().documents == 2

    back = tmp_path / "back"
    r = run("migrate", "to-faiss", "--index-dir", str(back), *milvus)
    assert r.returncode == 0, r.stderr
    copy = load_index(back)
    assert copy.documents == original.documents  # text, title, hash and provenance
    assert (copy.sentences == original.sentences).all()
    assert (copy.passages == original.passages).all()
    assert (copy.flagged == original.flagged).all()
    for field in ("sentence_vectors", "passage_vectors"):
        assert np.array_equal(
            vectors_of(getattr(copy, field)), vectors_of(getattr(original, field))
        )


def test_migrate_errors_are_one_line(tmp_path, milvus_uri, milvus_prefix):
    milvus = ["--milvus-uri", milvus_uri, "--milvus-prefix", milvus_prefix]
    r = run("migrate", "sideways", *milvus)
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    assert "to-milvus or to-faiss" in r.stderr
    r = run("migrate", "to-faiss", "--index-dir", str(tmp_path / "x"), *milvus)
    assert r.returncode == 1 and f"{milvus_prefix}_*" in r.stderr
    r = run("migrate", "to-milvus", "--index-dir", str(tmp_path / "none"), *milvus)
    assert r.returncode == 1 and "qa index" in r.stderr
