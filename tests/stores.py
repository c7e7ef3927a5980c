"""The stores under test, opened the same way: the contract tests run on each."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.build import build
from index.chunk import Chunking
from index.embed import Embedder
from index.read import Document
from index.split import Span
from index.store import vectors_of
from index.stores.interface import NewDocument

STORES = ["milvus"]


def new_documents(
    documents: Sequence[Document], embedder: Embedder, chunking: Chunking | None = None
) -> list[NewDocument]:
    """``documents`` split, grouped, embedded and flagged by index.build, as a writer hands
    them to a store."""
    index = build(documents, embedder, chunking or Chunking())
    s_vecs, p_vecs = vectors_of(index.sentence_vectors), vectors_of(index.passage_vectors)
    out = []
    for d, doc in enumerate(index.documents):
        rows = np.nonzero(index.sentences[:, 0] == d)[0]
        prows = np.nonzero(index.passages[:, 0] == d)[0]
        base = int(rows[0])
        out.append(
            NewDocument(
                doc.doc_id,
                doc.title,
                doc.text,
                doc.sha256,
                tuple(Span(int(index.sentences[i][1]), int(index.sentences[i][2])) for i in rows),
                tuple(
                    (int(index.passages[j][1]) - base, int(index.passages[j][2]) - base)
                    for j in prows
                ),
                s_vecs[rows],
                p_vecs[prows],
                index.flagged[rows],
                doc.uploaded,
                doc.added_by,
                doc.added_at,
            )
        )
    return out


def open_store(kind: str, embedder: Embedder, *, milvus_uri: str, prefix: str, tmp_path):
    """An empty store of ``kind`` for ``embedder``'s vectors."""
    if kind == "milvus":
        from index.stores.milvus import MilvusStore, connect

        return MilvusStore.create(
            connect(milvus_uri), prefix, embedder.name, embedder.dim, Chunking()
        )
    raise ValueError(kind)
