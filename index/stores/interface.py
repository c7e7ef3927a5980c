"""The store: where an index's documents, sentences, passages, vectors and word statistics
live, behind one small interface. The retriever, the engine and the documents endpoints use
only this; two implementations exist: a folder of FAISS segments (the default,
``index.stores.segments``) and Milvus (many ``qa serve`` replicas on one collection).

Ids: a sentence id and a passage id are integers unique within one generation of the store
(``version()``); they may change when the store changes (a compaction renumbers), so they are
never kept across a ``refresh()``. A document is identified by its ``doc_id`` (its file name).

Visibility: a document is visible (searched, listed, fetched) only once every unit of it is
stored; a reader never sees part of a document, and a replaced document is swapped whole
(the old version stays visible until the new one is complete). See
/work/notes/store-interface.md for the semantics of concurrent writers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from index.chunk import Chunking
from index.places import NOWHERE, Places
from index.split import Span

Kind = Literal["passage", "sentence"]
# the documents (by doc_id) a question is asked over; None: all of them
Scope = frozenset[str]


@dataclass(frozen=True)
class Hit:
    id: int  # a passage id or a sentence id, by the kind searched
    score: float  # dense: inner product of unit vectors; BM25: the raw BM25 score


@dataclass(frozen=True)
class Nominees:
    """What a question's four first searches found: its nearest and its best BM25
    passages and sentences, best first."""

    dense_passages: list[Hit]
    dense_sentences: list[Hit]
    bm25_passages: list[Hit]
    bm25_sentences: list[Hit]


def nominate_in_turn(
    store: Store, vector: np.ndarray, terms: Sequence[str], k: int, only: Scope | None = None
) -> Nominees:
    """``Store.nominate`` one search after another: for a store in this process, where
    each is a short computation."""
    return Nominees(
        store.dense_search("passage", vector, k, only),
        store.dense_search("sentence", vector, k, only),
        store.bm25_search("passage", terms, k, only),
        store.bm25_search("sentence", terms, k, only),
    )


@dataclass(frozen=True)
class StoredSentence:
    id: int
    doc_id: str
    start: int  # offsets into the document's text: text == document.text[start:end]
    end: int
    text: str
    vector: np.ndarray  # unit float32 vector
    flagged: bool  # instruction-like (index.injection): never cited, never shown to a model
    opens_document: bool  # the first sentence of its document


@dataclass(frozen=True)
class StoredPassage:
    id: int
    doc_id: str
    title: str  # its document's title
    start: int  # offsets into the document's text, of its first sentence's start ...
    end: int  # ... and its last sentence's end
    text: str
    vector: np.ndarray  # unit float32 vector of passage_input(title, text)
    sentences: tuple[StoredSentence, ...]
    places: Places = NOWHERE  # its document's pages and sections


@dataclass(frozen=True)
class DocumentEntry:
    """A document as listed (no text)."""

    doc_id: str
    title: str
    sha256: str
    characters: int
    sentences: int
    passages: int
    flagged_sentences: int = 0
    uploaded: bool = False  # added over HTTP: ``qa index DIR`` keeps it
    added_by: str | None = None
    added_at: str | None = None
    places: Places = NOWHERE  # its pages and sections (index.places)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentText:
    """One document whole: its text and its sentences' offsets and flags, in order."""

    entry: DocumentEntry
    text: str
    sentences: tuple[Span, ...]
    flagged: tuple[bool, ...]


@dataclass(frozen=True)
class Counts:
    documents: int
    sentences: int
    passages: int


@dataclass(frozen=True)
class NewDocument:
    """One document ready to store: split, grouped into passages, embedded and flagged.
    ``passages[j] = (first, last)`` is a half-open range of its sentences."""

    doc_id: str
    title: str
    text: str
    sha256: str
    sentences: tuple[Span, ...]
    passages: tuple[tuple[int, int], ...]
    sentence_vectors: np.ndarray  # (len(sentences), dim) unit float32
    passage_vectors: np.ndarray  # (len(passages), dim) unit float32
    flagged: np.ndarray  # (len(sentences),) bool
    uploaded: bool = False
    added_by: str | None = None
    added_at: str | None = None
    places: Places = NOWHERE
    tags: tuple[str, ...] = ()


class Store(Protocol):
    """Read and write one index. Reads are safe from many threads at once; writes are
    serialised by the store (across processes too) and each is atomic."""

    model: str  # the embedding model the vectors were made with
    dim: int
    chunking: Chunking

    # -- reading -------------------------------------------------------------------------
    def version(self) -> str:
        """A token that changes whenever any writer (this process or another) changes the
        store; cheap (called before every request)."""
        ...

    def refresh(self) -> bool:
        """Read another writer's changes if there are any; True when there were."""
        ...

    def snapshot(self) -> Store:
        """A reader of the store as it is now: the ids one of its calls returns stay valid
        in the next even if a writer changes the store meanwhile (one per question)."""
        ...

    def counts(self) -> Counts: ...

    def dense_search(
        self, kind: Kind, vector: np.ndarray, k: int, only: Scope | None = None
    ) -> list[Hit]:
        """The ``k`` units nearest ``vector`` (inner product), best first. Exact below the
        store's approximate-search threshold, approximate (recall@10 >= 0.95) above it.
        ``only``: the units of these documents alone, filtered in the search (``k`` of
        them whenever they hold ``k``), never after it."""
        ...

    def bm25_search(
        self, kind: Kind, terms: Sequence[str], k: int, only: Scope | None = None
    ) -> list[Hit]:
        """The ``k`` units of highest BM25 score for ``terms`` (index.tokens.terms of the
        question; a repeated term counts twice), best first, only units scoring > 0.
        Statistics (IDF, average length) are over every unit of the kind in the store,
        whatever ``only`` narrows the units to (as ``dense_search``)."""
        ...

    def nominate(
        self, vector: np.ndarray, terms: Sequence[str], k: int, only: Scope | None = None
    ) -> Nominees:
        """``dense_search`` and ``bm25_search`` of both kinds, ``k`` each: a store across
        a network runs them at once."""
        ...

    def bm25_scores(self, kind: Kind, terms: Sequence[str], ids: Sequence[int]) -> np.ndarray:
        """The BM25 scores of the units ``ids`` (0 for a unit holding none of the terms),
        on the same scale as ``bm25_search``."""
        ...

    def vectors(self, kind: Kind, ids: Sequence[int]) -> np.ndarray:
        """The unit vectors of the units ``ids``, one row each, in the order asked."""
        ...

    def sentences_of(self, passage_ids: Sequence[int]) -> list[list[int]]:
        """The sentence ids of each passage, in order (cheaper than ``passages``: the
        retriever scores a hundred nominees with these and fetches only the best whole)."""
        ...

    def passages(self, ids: Sequence[int]) -> list[StoredPassage]:
        """The passages ``ids`` with their sentences, in the order asked."""
        ...

    def passages_of_sentences(self, ids: Sequence[int]) -> list[list[int]]:
        """For each sentence id, the passages that hold it (with overlap, up to two)."""
        ...

    def document_frequencies(self, keys: Sequence[str]) -> tuple[list[int], int]:
        """How many sentences hold each key (a term, or two adjacent terms joined by one
        space), and how many sentences there are: the statistics of IDF."""
        ...

    def documents(self) -> list[DocumentEntry]:
        """Every visible document, in the order they were added."""
        ...

    def document(self, doc_id: str) -> DocumentText | None:
        """One document's text, sentence offsets and flags; None when there is none."""
        ...

    # -- writing -------------------------------------------------------------------------
    def add(self, documents: Sequence[NewDocument], delete: Sequence[str] = ()) -> None:
        """Store ``documents``, each replacing the visible document of the same ``doc_id``,
        and remove the documents ``delete``: one change, visible whole and at once (``qa
        index`` adds what changed and removes what is gone together). Cost: about the
        size of ``documents``, not of the store."""
        ...

    def delete(self, doc_ids: Sequence[str]) -> None:
        """Remove documents; an unknown id is ignored (callers check first)."""
        ...

    def set_tags(self, doc_id: str, tags: Sequence[str]) -> bool:
        """Give the document ``doc_id`` these tags (its text, sentences and vectors as
        they are); False when there is no such document."""
        ...

    def compact(self) -> None:
        """Reclaim what deletions and replacements left and merge small parts; the visible
        documents and their answers do not change (ids may)."""
        ...
