"""The stores under test, made the same way: the contract tests run on each."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from index.build import build
from index.chunk import Chunking
from index.embed import Embedder
from index.read import Document
from index.store import save_index
from index.stores.interface import NewDocument, Store

STORES = ["faiss", "milvus"]


def new_documents(documents: Sequence[Document], embedder: Embedder) -> list[NewDocument]:
    """``documents`` split, grouped, embedded and flagged by index.build, as a writer hands
    them to a store."""
    return build(documents, embedder, Chunking()).new_documents()


def make_store(
    kind: str, documents: Sequence[Document], embedder: Embedder, *, folder: Path, milvus=None
) -> Store:
    """A store of ``kind`` holding ``documents``: an index folder at ``folder``, or the
    collections under the prefix ``milvus[1]`` of the Milvus at ``milvus[0]``."""
    if kind == "faiss":
        from index.stores.segments import SegmentStore

        index = build(documents, embedder, Chunking())
        index.generation = 1
        save_index(index, folder)
        return SegmentStore(folder, embedder.name)
    from index.stores.milvus import MilvusStore, connect

    uri, prefix = milvus
    store = MilvusStore.create(connect(uri), prefix, embedder.name, embedder.dim, Chunking())
    store.add(new_documents(documents, embedder))
    return store
