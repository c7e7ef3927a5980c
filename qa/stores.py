"""Where the index is kept, chosen by ``QA_STORE``: the index folder of FAISS segments (the
default) or Milvus, shared by any number of `qa serve` replicas. Each kind says how to open
its store, how to start one with its first documents, whether one exists, and how writers
of several processes take turns (a folder's file lock; Milvus needs none: its store keeps
every write whole by itself, index.stores.milvus_rows)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

from index.chunk import Chunking
from index.errors import IndexMismatch
from index.lock import stamp, try_writing, writing
from index.store import StoredIndex, read_generation, save_index
from index.stores.interface import Store
from index.stores.segments import Options, SegmentStore
from qa.settings import Settings


class StoreKind(Protocol):
    def where(self, settings: Settings) -> str:
        """Where the index is, as a user names it (in messages)."""
        ...

    def open(self, settings: Settings, model: str) -> Store:
        """The index; IndexNotFound when there is none yet, IndexMismatch for another model."""
        ...

    def exists(self, settings: Settings) -> bool:
        """Whether there is an index to open now (cheap: asked before requests)."""
        ...

    def start(self, settings: Settings, index: StoredIndex) -> None:
        """A new index of these first documents."""
        ...

    def writing(self, settings: Settings, wait: float) -> AbstractContextManager:
        """Held by a writer while it reads what it builds on and writes its change."""
        ...

    def clean(self, settings: Settings) -> None:
        """Remove what a writer that died left behind."""
        ...


def store_options(settings: Settings) -> Options:
    return Options(ann=settings.ann_index, ann_above=settings.ann_above)


class FolderStores:
    def where(self, settings: Settings) -> str:
        return str(settings.index_dir)

    def open(self, settings: Settings, model: str) -> Store:
        return SegmentStore(settings.index_dir, expect_model=model, options=store_options(settings))

    def exists(self, settings: Settings) -> bool:
        return stamp(settings.index_dir) is not None

    def start(self, settings: Settings, index: StoredIndex) -> None:
        index.generation = (read_generation(settings.index_dir) or 0) + 1
        save_index(index, settings.index_dir, store_options(settings))

    def writing(self, settings: Settings, wait: float) -> AbstractContextManager:
        return writing(settings.index_dir, wait)

    def clean(self, settings: Settings) -> None:
        with try_writing(settings.index_dir):
            pass


class MilvusStores:
    def __init__(self) -> None:
        self._clients: dict[tuple[str, str | None], object] = {}

    def where(self, settings: Settings) -> str:
        return f"Milvus {settings.milvus_uri} (collections {settings.milvus_prefix}_*)"

    def open(self, settings: Settings, model: str) -> Store:
        from index.stores.milvus import MilvusStore

        store = MilvusStore(self._client(settings), settings.milvus_prefix)
        if store.model != model:
            raise IndexMismatch(
                f"the index in {self.where(settings)} was built with model {store.model!r}, "
                f"this service embeds questions with {model!r}: index again, or use another "
                "QA_MILVUS_PREFIX"
            )
        return store

    def exists(self, settings: Settings) -> bool:
        from index.stores.milvus import has_store

        return has_store(self._client(settings), settings.milvus_prefix)

    def start(self, settings: Settings, index: StoredIndex) -> None:
        store = self.create(settings, index.model, index.dim, index.chunking)
        store.add(index.new_documents())

    def create(self, settings: Settings, model: str, dim: int, chunking: Chunking) -> Store:
        """The store, its collections created first if there are none."""
        from index.stores.milvus import MilvusStore

        return MilvusStore.create(
            self._client(settings), settings.milvus_prefix, model, dim, chunking
        )

    def writing(self, settings: Settings, wait: float) -> AbstractContextManager:
        return nullcontext()

    def clean(self, settings: Settings) -> None:
        pass  # compact() finishes or removes writes cut short; see index.stores.milvus_rows

    def _client(self, settings: Settings):
        """One client per Milvus and credentials (a client holds a channel to reuse)."""
        from index.stores.milvus import connect

        token = settings.milvus_token.get_secret_value() if settings.milvus_token else None
        key = (settings.milvus_uri, token)
        if key not in self._clients:
            self._clients[key] = connect(settings.milvus_uri, token)
        return self._clients[key]


KINDS: dict[str, type[StoreKind]] = {"faiss": FolderStores, "milvus": MilvusStores}


def store_kind(settings: Settings) -> StoreKind:
    """The kind ``QA_STORE`` names (the setting only takes one of KINDS' names); one per
    engine (it keeps its connections)."""
    return KINDS[settings.store]()
