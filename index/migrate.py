"""Copying an index between an index folder (FAISS) and Milvus, both ways, vectors and all:
nothing is split or embedded again, so a collection started on a laptop moves to a cluster
(and back) in the time it takes to copy it.

The copy makes the destination hold what the source holds: documents absent from the source
are deleted, unchanged ones are left as they are (a rerun after an interruption only writes
what is missing)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from index.errors import NoDocuments
from index.lock import writing
from index.split import Span
from index.store import IndexedDocument, StoredIndex, load_index, read_generation, save_index
from index.stores.interface import NewDocument
from index.stores.milvus import MilvusStore
from index.stores.milvus_rows import quoted

log = logging.getLogger(__name__)

BATCH_DOCUMENTS = 64  # documents per add: each batch becomes visible at once

# wraps the batches copied, e.g. with a tqdm progress bar
Progress = Callable[[list], Iterable]


def export(store: MilvusStore) -> Iterator[NewDocument]:
    """Every visible document of a Milvus store with its rows and vectors, in order."""
    store.refresh()
    heads = store.heads()
    for b in range(0, len(heads), BATCH_DOCUMENTS):
        chunk = heads[b : b + BATCH_DOCUMENTS]
        keys = [h.key for h in chunk]
        where = f"key in {quoted(keys)}"
        rows = store.rows
        texts = rows.query("documents", where, ["key", "part", "text"])
        sentences = rows.query(
            "sentences", where, ["key", "seq", "start", "end", "flagged", "vector"]
        )
        passages = rows.query("passages", where, ["key", "seq", "first", "last", "vector"])
        for h in chunk:
            parts = sorted((r for r in texts if r["key"] == h.key), key=lambda r: r["part"])
            s = sorted((r for r in sentences if r["key"] == h.key), key=lambda r: r["seq"])
            p = sorted((r for r in passages if r["key"] == h.key), key=lambda r: r["seq"])
            yield NewDocument(
                h.doc_id, h.title, "".join(r["text"] for r in parts), h.sha256,
                tuple(Span(int(r["start"]), int(r["end"])) for r in s),
                tuple((int(r["first"]), int(r["last"])) for r in p),
                _matrix([r["vector"] for r in s], store.dim),
                _matrix([r["vector"] for r in p], store.dim),
                np.array([bool(r["flagged"]) for r in s], dtype=bool),
                h.uploaded, h.added_by, h.added_at,
            )  # fmt: skip


def to_milvus(
    index_dir: Path, client, prefix: str, progress: Progress | None = None
) -> MilvusStore:
    """Copy the index folder ``index_dir`` into the Milvus collections under ``prefix``."""
    index = load_index(index_dir)
    store = MilvusStore.create(client, prefix, index.model, index.dim, index.chunking)
    docs = index.new_documents()
    have = {(e.doc_id, e.sha256) for e in store.documents()}
    missing = [d for d in docs if (d.doc_id, d.sha256) not in have]
    batches = [missing[i : i + BATCH_DOCUMENTS] for i in range(0, len(missing), BATCH_DOCUMENTS)]
    for batch in progress(batches) if progress else batches:
        store.add(batch)
    wanted = {d.doc_id for d in docs}
    store.delete([e.doc_id for e in store.documents() if e.doc_id not in wanted])
    store.compact()  # one sealed segment: BM25 statistics over the whole collection
    return store


def to_folder(store: MilvusStore, index_dir: Path) -> StoredIndex:
    """Write what the Milvus store holds as the index folder ``index_dir`` (replacing it)."""
    docs = list(export(store))
    if not docs:
        raise NoDocuments("the Milvus collections hold no documents to copy")
    index = stored_index(docs, store.model, store.dim, store.chunking)
    with writing(index_dir):
        index.generation = (read_generation(index_dir) or 0) + 1
        save_index(index, index_dir)
    return index


def stored_index(docs: Sequence[NewDocument], model: str, dim: int, chunking) -> StoredIndex:
    """An index folder's contents from stored documents (their vectors as they are)."""
    documents, sentences, passages = [], [], []
    for d, doc in enumerate(docs):
        base = len(sentences)
        documents.append(
            IndexedDocument(
                doc.doc_id, doc.title, doc.text, doc.sha256, doc.uploaded, doc.added_by,
                doc.added_at,
            )
        )  # fmt: skip
        sentences += [(d, s.start, s.end) for s in doc.sentences]
        passages += [(d, base + a, base + b) for a, b in doc.passages]
    return StoredIndex(
        model=model,
        dim=dim,
        chunking=chunking,
        documents=documents,
        sentences=np.array(sentences, dtype=np.int64).reshape(-1, 3),
        passages=np.array(passages, dtype=np.int64).reshape(-1, 3),
        sentence_vectors=np.concatenate([d.sentence_vectors for d in docs]),
        passage_vectors=np.concatenate([d.passage_vectors for d in docs]),
        flagged=np.concatenate([d.flagged for d in docs]).astype(bool),
    )


def _matrix(rows: list, dim: int) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32).reshape(-1, dim)
