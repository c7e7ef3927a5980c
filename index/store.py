"""The index directory: FAISS inner-product indexes over unit vectors (sentences and
passages), BM25 indexes over the same units, the documents' text and a manifest.

Layout of ``index_dir``::

    manifest.json        format version, generation, model, chunking, per-document hash
    documents.jsonl      {"doc_id", "title", "text"[, "uploaded", "added_by", "added_at"]}
                         per document, in index order
    units.npz            sentences [doc, start, end], passages [doc, first, last) and
                         flagged (per sentence: instruction-like, never cited; see
                         index.injection)
    sentences.faiss      passages.faiss
    bm25_sentences/      bm25_passages/     (bm25s)

A write goes to a sibling temporary directory that is renamed into place, so a crash
leaves either the old index or the new one, never half of one. Writers hold the lock of
``index.lock`` and number each index they save one more than the generation on disk."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np

from index.chunk import Chunking
from index.errors import DiskFull, IndexMismatch, IndexNotFound
from index.injection import VERSION as FLAGS_VERSION
from index.injection import flag_sentences
from index.lock import try_writing
from index.read import Document
from index.split import Span

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class IndexedDocument:
    doc_id: str
    title: str
    text: str
    sha256: str
    uploaded: bool = False  # added over HTTP: ``qa index DIR`` keeps it (its text is here only)
    added_by: str | None = None  # who added it: an API key's name, "http" or "cli"
    added_at: str | None = None  # when, ISO 8601 UTC (None in indexes built before it was kept)

    def source(self) -> Document:
        """The document as read, to build another index from (its provenance kept)."""
        return Document(self.doc_id, self.text, self.uploaded, self.added_by, self.added_at)


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
    sentence_vectors: faiss.Index
    passage_vectors: faiss.Index
    sentence_bm25: bm25s.BM25
    passage_bm25: bm25s.BM25
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

    def manifest(self) -> dict:
        counts = self.sentence_counts()
        flagged = self.flagged_counts()
        passages = np.bincount(self.passages[:, 0], minlength=len(self.documents))
        return {
            "format_version": FORMAT_VERSION,
            "generation": self.generation,
            "model": {"name": self.model, "dim": self.dim},
            "chunking": {"sentences": self.chunking.sentences, "overlap": self.chunking.overlap},
            "counts": {
                "documents": len(self.documents),
                "sentences": len(self.sentences),
                "passages": len(self.passages),
            },
            "documents": {
                d.doc_id: {
                    "sha256": d.sha256,
                    "chars": len(d.text),
                    "sentences": int(counts[i]),
                    "passages": int(passages[i]),
                    **({"uploaded": True} if d.uploaded else {}),
                    **({"flagged_sentences": int(flagged[i])} if flagged[i] else {}),
                }
                for i, d in enumerate(self.documents)
            },
        }


def flat_index(vectors: np.ndarray, dim: int) -> faiss.Index:
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def vectors_of(index: faiss.Index) -> np.ndarray:
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_n(0, index.ntotal)


def read_manifest(index_dir: Path) -> dict:
    path = index_dir / "manifest.json"
    if not path.is_file():
        raise IndexNotFound(str(index_dir))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise IndexMismatch(f"{path} is not valid JSON ({exc}): rebuild with `qa index`") from exc


def load_index(index_dir: Path, expect_model: str | None = None) -> StoredIndex:
    _recover(index_dir)
    manifest = read_manifest(index_dir)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"index at {index_dir} has format version {manifest.get('format_version')}, "
            f"this qa reads version {FORMAT_VERSION}: rebuild it with `qa index`"
        )
    model = manifest["model"]["name"]
    if expect_model is not None and model != expect_model:
        raise IndexMismatch(
            f"index at {index_dir} was built with model {model!r}, this service embeds "
            f"questions with {expect_model!r}: rebuild it with `qa index`"
        )
    docs = []
    with open(index_dir / "documents.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            docs.append(
                IndexedDocument(
                    row["doc_id"],
                    row["title"],
                    row["text"],
                    row["sha256"],
                    row.get("uploaded", False),
                    row.get("added_by"),
                    row.get("added_at"),
                )
            )
    units = np.load(index_dir / "units.npz")
    return StoredIndex(
        model=model,
        dim=manifest["model"]["dim"],
        chunking=Chunking(**manifest["chunking"]),
        documents=docs,
        sentences=units["sentences"],
        passages=units["passages"],
        sentence_vectors=faiss.read_index(str(index_dir / "sentences.faiss")),
        passage_vectors=faiss.read_index(str(index_dir / "passages.faiss")),
        sentence_bm25=bm25s.BM25.load(str(index_dir / "bm25_sentences")),
        passage_bm25=bm25s.BM25.load(str(index_dir / "bm25_passages")),
        flagged=_stored_flags(units),
        generation=manifest.get("generation", 0),
    )


def read_generation(index_dir: Path) -> int | None:
    """The generation of the index on disk; None when there is none (or it is unreadable)."""
    try:
        return read_manifest(index_dir).get("generation", 0)
    except (IndexNotFound, IndexMismatch, OSError):
        return None


def save_index(index: StoredIndex, index_dir: Path) -> None:
    """Write ``index`` to ``index_dir`` atomically (temporary directory, then rename)."""
    index_dir = index_dir.resolve()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))
    except OSError as exc:
        _raise_disk_full(exc, index_dir)
        raise
    try:
        with open(tmp / "documents.jsonl", "w", encoding="utf-8") as f:
            for d in index.documents:
                row = {"doc_id": d.doc_id, "title": d.title, "sha256": d.sha256, "text": d.text}
                if d.uploaded:
                    row["uploaded"] = True
                if d.added_by is not None:
                    row["added_by"] = d.added_by
                if d.added_at is not None:
                    row["added_at"] = d.added_at
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        np.savez(
            tmp / "units.npz",
            sentences=index.sentences,
            passages=index.passages,
            flagged=index.flagged,
            flags_version=np.int64(FLAGS_VERSION),
        )
        # serialised here and written by Python, so a full disk is an OSError with its errno
        # (faiss's own writer reports it as a RuntimeError of many lines)
        (tmp / "sentences.faiss").write_bytes(faiss.serialize_index(index.sentence_vectors))
        (tmp / "passages.faiss").write_bytes(faiss.serialize_index(index.passage_vectors))
        index.sentence_bm25.save(str(tmp / "bm25_sentences"))
        index.passage_bm25.save(str(tmp / "bm25_passages"))
        # the manifest last: a directory without one is never taken for an index
        (tmp / "manifest.json").write_text(json.dumps(index.manifest(), indent=1), "utf-8")
        _fsync_dir(tmp)
        _swap(tmp, index_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _raise_disk_full(exc, index_dir)
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _stored_flags(units) -> np.ndarray | None:
    """The stored flags, if the patterns that found them are this version's."""
    if "flags_version" not in units.files or int(units["flags_version"]) != FLAGS_VERSION:
        return None
    return units["flagged"].astype(bool)


def _raise_disk_full(exc: OSError, index_dir: Path) -> None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise DiskFull(
            f"no space left on the disk of {index_dir.parent} to save the index "
            f"({os.strerror(exc.errno)}); nothing was changed: free some space and try again"
        ) from exc


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


def _fsync_dir(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            with open(file, "rb") as f:
                os.fsync(f.fileno())


def as_indexed(doc: Document, title: str) -> IndexedDocument:
    return IndexedDocument(
        doc.doc_id, title, doc.text, doc.sha256, doc.uploaded, doc.added_by, doc.added_at
    )


def find_flagged(documents: list[IndexedDocument], sentences: np.ndarray) -> np.ndarray:
    """Which sentences are instruction-like, document by document (a role marker such as
    "SYSTEM:" flags the rest of its paragraph, so each document is read in order)."""
    flags = np.zeros(len(sentences), dtype=bool)
    order = np.argsort(sentences[:, 0], kind="stable")
    bounds = np.searchsorted(sentences[order, 0], np.arange(len(documents) + 1))
    for d, document in enumerate(documents):
        rows = order[bounds[d] : bounds[d + 1]]
        spans = [Span(int(sentences[i][1]), int(sentences[i][2])) for i in rows]
        flags[rows] = flag_sentences(document.text, spans)
    return flags
