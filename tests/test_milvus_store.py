"""What only the Milvus store has to show: writers in other processes (other clients), writes
cut short that stay invisible and converge when run again, and the collections' manifest."""

from __future__ import annotations

import json
import time

import pytest

from index.chunk import Chunking
from index.errors import IndexMismatch, IndexNotFound
from index.read import Document
from index.stores.milvus import MilvusStore, connect
from index.stores.milvus_rows import document_key
from index.tokens import terms
from tests.stores import new_documents
from tests.test_store_contract import EIFFEL, LEAVES


@pytest.fixture()
def pair(milvus_uri, milvus_prefix, embedder):
    """Two stores on one Milvus through two clients, as two replicas have."""
    first = MilvusStore.create(
        connect(milvus_uri), milvus_prefix, embedder.name, embedder.dim, Chunking()
    )
    first.add(new_documents([Document("leaves.txt", LEAVES)], embedder))
    return first, MilvusStore(connect(milvus_uri), milvus_prefix)


def test_another_client_sees_adds_and_deletes_after_refresh(pair, embedder):
    writer, reader = pair
    assert [e.doc_id for e in reader.documents()] == ["leaves.txt"]
    version = reader.version()
    writer.add(new_documents([Document("eiffel.txt", EIFFEL)], embedder))
    assert reader.version() != version
    assert reader.refresh() is True and reader.refresh() is False
    assert {e.doc_id for e in reader.documents()} == {"leaves.txt", "eiffel.txt"}
    assert reader.document("eiffel.txt").text == EIFFEL
    writer.delete(["eiffel.txt"])
    reader.refresh()
    assert [e.doc_id for e in reader.documents()] == ["leaves.txt"]
    hits = reader.bm25_search("passage", terms("Eiffel tower 1889"), 5)
    assert all(p.doc_id == "leaves.txt" for p in reader.passages([h.id for h in hits]))


def test_a_write_cut_short_is_invisible_and_a_rerun_converges(pair, embedder):
    writer, reader = pair
    (doc,) = new_documents([Document("eiffel.txt", EIFFEL)], embedder)
    key = document_key(doc.doc_id, doc.sha256, writer.model, writer.chunking)
    # what a writer killed before its commit leaves: the head "writing", every row in
    writer.rows._upsert("documents", writer.rows._head_rows(doc, key, "writing", "dead", 1))
    writer.rows._write_units(doc, key)
    writer.rows.flush()
    writer.rows.bump()
    reader.refresh()
    assert [e.doc_id for e in reader.documents()] == ["leaves.txt"]
    assert reader.document("eiffel.txt") is None
    for kind in ("passage", "sentence"):
        q = embedder.encode(["When was the Eiffel Tower completed?"])[0]
        hit_ids = [h.id for h in reader.dense_search(kind, q, 50)]
        hit_ids += [h.id for h in reader.bm25_search(kind, terms("Eiffel tower 1889"), 50)]
        if kind == "sentence":
            hit_ids = [j for js in reader.passages_of_sentences(hit_ids) for j in js]
        ids = hit_ids
        assert {p.doc_id for p in reader.passages(ids)} == {"leaves.txt"}
    assert reader.counts().documents == 1
    assert reader.document_frequencies(["eiffel"])[0] == [0]

    writer.add([doc])  # the same write again
    reader.refresh()
    assert reader.document("eiffel.txt").text == EIFFEL
    rows = writer.rows.query("sentences", f'key == "{key}"', ["id"])
    assert len(rows) == len(doc.sentences)  # each row once: the rerun overwrote them
    heads = writer.rows.heads(f'key == "{key}"')
    assert [h.state for h in heads] == ["live"]


def test_compact_removes_abandoned_and_retired_rows(pair, embedder):
    writer, reader = pair
    (doc,) = new_documents([Document("eiffel.txt", EIFFEL)], embedder)
    key = document_key(doc.doc_id, doc.sha256, writer.model, writer.chunking)
    writer.rows._upsert("documents", writer.rows._head_rows(doc, key, "writing", "dead", 1))
    writer.rows._write_units(doc, key)
    (changed,) = new_documents([Document("leaves.txt", LEAVES + " Leaves fall.")], embedder)
    writer.add([changed])
    writer.rows.compact(grace_ns=0)  # a minute later
    for kind in ("sentences", "passages", "documents"):
        keys = {r["key"] for r in writer.rows.query(kind, "", ["key"])}
        assert keys == {h.key for h in writer.rows.heads() if h.state == "live"}
    reader.refresh()
    assert reader.document("leaves.txt").text.endswith("Leaves fall.")


def test_the_manifest_guards_the_model(milvus_uri, milvus_prefix, embedder):
    client = connect(milvus_uri)
    with pytest.raises(IndexNotFound):
        MilvusStore(client, milvus_prefix)
    MilvusStore.create(client, milvus_prefix, embedder.name, embedder.dim, Chunking())
    with pytest.raises(IndexMismatch, match="QA_MILVUS_PREFIX"):
        MilvusStore.create(client, milvus_prefix, "another-model", embedder.dim, Chunking())


def test_a_change_committed_by_a_writer_that_died_is_seen_whole(pair, embedder):
    """Dead after its commit (the batch row) and before marking heads and deletions done:
    readers see the whole change, and compact finishes it."""
    writer, reader = pair
    (doc,) = new_documents([Document("eiffel.txt", EIFFEL)], embedder)
    key = document_key(doc.doc_id, doc.sha256, writer.model, writer.chunking)
    writer.rows._upsert("documents", writer.rows._head_rows(doc, key, "writing", "b1", 1))
    writer.rows._write_units(doc, key)
    writer.rows.set_meta("batch:b1", json.dumps({"at": time.time_ns(), "delete": ["leaves.txt"]}))
    writer.rows.bump()
    reader.refresh()
    assert [e.doc_id for e in reader.documents()] == ["eiffel.txt"]
    assert reader.document("leaves.txt") is None
    writer.rows.compact(grace_ns=0)  # (retired rows are kept a minute for readers)
    assert writer.rows.batches() == {}
    assert {h.state for h in writer.rows.heads()} == {"live"}
    reader.refresh()
    assert [e.doc_id for e in reader.documents()] == ["eiffel.txt"]
