"""An index built in memory (``StoredIndex``: what ``index.build`` makes of documents) and
writing one as a whole new index folder, or reading one whole (tools and tests; the
service reads the folder through ``index.stores.segments.SegmentStore``, segment by
segment, without loading it whole).

A whole write goes to a sibling temporary directory that is renamed into place, so a crash
leaves either the old index or the new one, never half of one. Writers hold the lock of
``index.lock`` and number each index they save one more than the generation on disk."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.chunk import Chunking
from index.errors import IndexMismatch, IndexNotFound, raise_disk_full
from index.injection import flag_sentences
from index.lock import try_writing
from index.places import NOWHERE, Places
from index.read import Document
from index.split import Span
from index.stores.interface import NewDocument
from index.stores.manifest import FORMAT_VERSION, read_manifest
from index.stores.segments import Options, SegmentStore, create_store

log = logging.getLogger(__name__)

__all__ = ["FORMAT_VERSION", "read_manifest"]


@dataclass(frozen=True)
class IndexedDocument:
    doc_id: str
    title: str
    text: str
    sha256: str
    uploaded: bool = False  # added over HTTP: ``qa index DIR`` keeps it (its text is here only)
    added_by: str | None = None  # who added it: an API key's name, "http" or "cli"
    added_at: str | None = None  # when, ISO 8601 UTC (None in indexes built before it was kept)
    places: Places = NOWHERE
    tags: tuple[str, ...] = ()

    def source(self) -> Document:
        """The document as read, to build another index from (its provenance kept)."""
        return Document(
            self.doc_id, self.text, self.uploaded, self.added_by, self.added_at,
            self.places, self.tags,
        )  # fmt: skip


@dataclass
class StoredIndex:
    """An index held in memory; ``sentences[i] = (doc, start, end)`` and
    ``passages[j] = (doc, first_sentence, last_sentence_exclusive)``."""

    model: str
    dim: int
    chunking: Chunking
    documents: list[IndexedDocument]
    sentences: np.ndarray
    passages: np.ndarray
    sentence_vectors: np.ndarray  # unit float32, one row per sentence
    passage_vectors: np.ndarray  # one row per passage
    # per sentence: instruction-like (index.injection), so never cited nor shown to a model;
    # found from the text when not given (an index written before flags were stored)
    flagged: np.ndarray | None = None
    generation: int = 0  # one more at every save; see index.lock

    def __post_init__(self) -> None:
        if self.flagged is None:
            self.flagged = find_flagged(self.documents, self.sentences)

    @property
    def doc_ids(self) -> list[str]:
        return [d.doc_id for d in self.documents]

    def sentence_text(self, i: int) -> str:
        doc, start, end = self.sentences[i]
        return self.documents[doc].text[start:end]

    def passage_text(self, j: int) -> str:
        doc, first, last = self.passages[j]
        start = self.sentences[first][1]
        end = self.sentences[last - 1][2]
        return self.documents[doc].text[start:end]

    def sentence_counts(self) -> np.ndarray:
        return np.bincount(self.sentences[:, 0], minlength=len(self.documents))

    def flagged_counts(self) -> np.ndarray:
        """Instruction-like sentences per document."""
        return np.bincount(
            self.sentences[:, 0], weights=self.flagged, minlength=len(self.documents)
        ).astype(np.int64)

    def counts(self) -> dict[str, int]:
        return {
            "documents": len(self.documents),
            "sentences": len(self.sentences),
            "passages": len(self.passages),
        }

    def new_documents(self) -> list[NewDocument]:
        """The documents as a store takes them (index.stores.interface)."""
        n = len(self.documents)
        s_bounds = np.searchsorted(self.sentences[:, 0], np.arange(n + 1))
        p_bounds = np.searchsorted(self.passages[:, 0], np.arange(n + 1))
        out = []
        for d, doc in enumerate(self.documents):
            s0, s1 = int(s_bounds[d]), int(s_bounds[d + 1])
            p0, p1 = int(p_bounds[d]), int(p_bounds[d + 1])
            out.append(
                NewDocument(
                    doc.doc_id,
                    doc.title,
                    doc.text,
                    doc.sha256,
                    tuple(Span(int(a), int(b)) for _, a, b in self.sentences[s0:s1]),
                    tuple((int(a) - s0, int(b) - s0) for _, a, b in self.passages[p0:p1]),
                    self.sentence_vectors[s0:s1],
                    self.passage_vectors[p0:p1],
                    self.flagged[s0:s1],
                    doc.uploaded,
                    doc.added_by,
                    doc.added_at,
                    doc.places,
                    doc.tags,
                )
            )
        return out


def vectors_of(vectors: np.ndarray) -> np.ndarray:
    return vectors


def load_index(index_dir: Path, expect_model: str | None = None) -> StoredIndex:
    """The whole index at ``index_dir`` in memory (its live documents, in order)."""
    _recover(index_dir)
    store = SegmentStore(index_dir, expect_model, Options(ann="Flat"))
    docs, sentences, passages, s_vecs, p_vecs, flags = [], [], [], [], [], []
    n_sentences = 0
    for d, entry in enumerate(store.documents()):
        text = store.document(entry.doc_id)
        assert text is not None
        new = store._view.new_document(*store._view.docs[entry.doc_id])
        docs.append(
            IndexedDocument(
                entry.doc_id,
                entry.title,
                text.text,
                entry.sha256,
                entry.uploaded,
                entry.added_by,
                entry.added_at,
                entry.places,
                entry.tags,
            )
        )
        sentences += [(d, s.start, s.end) for s in new.sentences]
        passages += [(d, n_sentences + a, n_sentences + b) for a, b in new.passages]
        n_sentences += len(new.sentences)
        s_vecs.append(new.sentence_vectors)
        p_vecs.append(new.passage_vectors)
        flags.append(new.flagged)
    dim = store.dim
    return StoredIndex(
        model=store.model,
        dim=dim,
        chunking=store.chunking,
        documents=docs,
        sentences=np.array(sentences, dtype=np.int64).reshape(-1, 3),
        passages=np.array(passages, dtype=np.int64).reshape(-1, 3),
        sentence_vectors=np.concatenate(s_vecs) if s_vecs else np.zeros((0, dim), np.float32),
        passage_vectors=np.concatenate(p_vecs) if p_vecs else np.zeros((0, dim), np.float32),
        flagged=np.concatenate(flags) if flags else np.zeros(0, bool),
        generation=store.generation,
    )


def read_generation(index_dir: Path) -> int | None:
    """The generation of the index on disk; None when there is none (or it is unreadable)."""
    try:
        return read_manifest(index_dir).get("generation", 0)
    except (IndexNotFound, IndexMismatch, OSError):
        return None


def save_index(index: StoredIndex, index_dir: Path, options: Options | None = None) -> None:
    """Write ``index`` as the whole index at ``index_dir``, atomically (temporary
    directory, then rename), as generation ``index.generation`` (at least 1)."""
    index_dir = index_dir.resolve()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_dir.with_name(f".{index_dir.name}.tmp-{os.getpid()}-{os.urandom(3).hex()}")
    try:
        create_store(
            tmp,
            index.new_documents(),
            index.model,
            index.dim,
            index.chunking,
            options,
            max(index.generation, 1),
        )
        _swap(tmp, index_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _raise_disk_full(exc, index_dir)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _raise_disk_full(exc: OSError, index_dir: Path) -> None:
    raise_disk_full(exc, index_dir)


def _old(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.old")


def _swap(new: Path, index_dir: Path) -> None:
    old = _old(index_dir)
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        os.rename(index_dir, old)
    os.rename(new, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def _recover(index_dir: Path) -> None:
    """A crash between the two renames of a swap leaves only the old index: put it back."""
    old = _old(index_dir)
    if index_dir.exists() or not (old / "manifest.json").is_file():
        return
    with try_writing(index_dir) as mine:  # else a writer is between its two renames now
        if mine and not index_dir.exists():
            log.warning("restoring the previous index from %s", old)
            os.rename(old, index_dir)


def as_indexed(doc: Document, title: str) -> IndexedDocument:
    return IndexedDocument(
        doc.doc_id, title, doc.text, doc.sha256, doc.uploaded, doc.added_by, doc.added_at,
        doc.places, doc.tags,
    )  # fmt: skip


def find_flagged(documents: list[IndexedDocument], sentences: np.ndarray) -> np.ndarray:
    """Which sentences are instruction-like, document by document (a role marker such as
    "SYSTEM:" flags the rest of its paragraph, so each document is read in order)."""
    flags = np.zeros(len(sentences), dtype=bool)
    order = np.argsort(sentences[:, 0], kind="stable")
    bounds = np.searchsorted(sentences[order, 0], np.arange(len(documents) + 1))
    for d, document in enumerate(documents):
        rows = order[bounds[d] : bounds[d + 1]]
        spans = [Span(int(sentences[i][1]), int(sentences[i][2])) for i in rows]
        flags[rows] = flag_sentences(document.text, spans, document.doc_id)
    return flags
