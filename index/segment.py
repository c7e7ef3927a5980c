"""One segment of an index: a few documents with everything to search them, written once
and never changed (a deletion is a tombstone in the manifest; a merge writes a new one).

Files in a segment folder (arrays as .npy, memory-mapped when read: the vectors are held
once, by the page cache, and shared by every process serving the index; a kind with an
approximate index has its rows read on demand instead, index.rows)::

    documents.jsonl     per document: doc_id, title, sha256, chars, where its text is in
                        text.bin, its first sentence and passage, provenance, its pages
                        and sections (index.places) and tags, where it has any
    text.bin            the documents' texts, UTF-8, one after the other
    sentences.npy       [doc, start, end] per sentence (doc: the segment's document number)
    passages.npy        [doc, first, last) per passage (sentence numbers of the segment)
    flagged.npy         per sentence: instruction-like (index.injection)
    segment.json        the version of the patterns that found the flags (found again
                        from the text when they are another version's)
    sentences.vectors.npy  passages.vectors.npy   unit float32
    sentences.*.npy     passages.*.npy            postings (index.postings)
    sentences.ann       passages.ann              approximate-search index, large segments only
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import faiss
import numpy as np

from index.ann import build_ann
from index.chunk import passage_input
from index.injection import VERSION as FLAGS_VERSION
from index.injection import flag_sentences
from index.places import Places
from index.postings import Postings
from index.rows import Rows
from index.split import Span
from index.stores.interface import DocumentEntry, Kind, NewDocument
from index.tokens import bigrams, terms

KINDS: tuple[Kind, Kind] = ("passage", "sentence")
_FILE = {"passage": "passages", "sentence": "sentences"}


@dataclass(frozen=True)
class SegmentDocument:
    entry: DocumentEntry
    text_bytes: tuple[int, int]  # where its text is in text.bin
    first_sentence: int
    first_passage: int


class Segment:
    """A segment read from disk (nothing in it is copied into memory but the document
    rows; the arrays are memory-mapped)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        self.documents: list[SegmentDocument] = []
        with open(folder / "documents.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                self.documents.append(
                    SegmentDocument(
                        DocumentEntry(
                            row["doc_id"],
                            row["title"],
                            row["sha256"],
                            row["chars"],
                            row["sentences"],
                            row["passages"],
                            row.get("flagged_sentences", 0),
                            row.get("uploaded", False),
                            row.get("added_by"),
                            row.get("added_at"),
                            Places.of(row.get("places")),
                            tuple(row.get("tags", ())),
                        ),
                        tuple(row["bytes"]),
                        row["first_sentence"],
                        row["first_passage"],
                    )
                )
        self.text = _map(folder / "text.bin")
        self.sentences = _load(folder / "sentences.npy")
        self.passages = _load(folder / "passages.npy")
        self.flagged = _load(folder / "flagged.npy")
        meta = json.loads((folder / "segment.json").read_text(encoding="utf-8"))
        if meta.get("flags_version") != FLAGS_VERSION:  # found by other patterns: again
            self.flagged = self._flags()
        self.vectors = {k: _load(folder / f"{_FILE[k]}.vectors.npy") for k in KINDS}
        self.postings = {k: Postings.load(folder, _FILE[k]) for k in KINDS}
        self.ann: dict[str, faiss.Index] = {}
        for k in KINDS:
            path = folder / f"{_FILE[k]}.ann"
            if path.is_file():
                self.ann[k] = faiss.read_index(str(path))
        # a kind searched approximately reads the rows it needs, never maps them (index.rows)
        self.rows: dict[str, Rows | np.ndarray] = {
            k: Rows(folder / f"{_FILE[k]}.vectors.npy") if k in self.ann else self.vectors[k]
            for k in KINDS
        }
        self.document_text = lru_cache(maxsize=1024)(self._document_text)

    def _flags(self) -> np.ndarray:
        flags = []
        for d, doc in enumerate(self.documents):
            rows = self.sentences[doc.first_sentence : doc.first_sentence + doc.entry.sentences]
            spans = [Span(int(a), int(b)) for _, a, b in rows]
            flags.append(flag_sentences(self._document_text(d), spans, doc.entry.doc_id))
        return np.concatenate(flags) if flags else np.zeros(0, dtype=bool)

    def size(self, kind: Kind) -> int:
        return len(self.sentences) if kind == "sentence" else len(self.passages)

    def _document_text(self, d: int) -> str:
        a, b = self.documents[d].text_bytes
        return bytes(self.text[a:b]).decode("utf-8")

    def units_of(self, kind: Kind, documents: Sequence[int]) -> np.ndarray:
        """The unit numbers of the given documents."""
        out = []
        for d in documents:
            doc = self.documents[d]
            if kind == "sentence":
                out.append(np.arange(doc.first_sentence, doc.first_sentence + doc.entry.sentences))
            else:
                out.append(np.arange(doc.first_passage, doc.first_passage + doc.entry.passages))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _load(path: Path) -> np.ndarray:
    """The array in ``path``, memory-mapped (a plain ndarray view: indexing a np.memmap
    makes a memmap object per access, 10 ms a question over a hundred passages)."""
    return np.asarray(np.load(path, mmap_mode="r"))


def _map(path: Path) -> np.ndarray:
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r")


def write_segment(
    folder: Path,
    documents: Sequence[NewDocument],
    dim: int,
    ann: str = "Flat",
    ann_above: int = 0,
) -> None:
    """Write ``documents`` as a new segment into ``folder`` (which must not exist yet) and
    fsync it; ``ann``: a FAISS factory string for segments of more than ``ann_above`` units
    of a kind ("Flat": exact search only)."""
    folder.mkdir(parents=True)
    rows, texts = [], []
    sentence_rows, passage_rows, flags = [], [], []
    sentence_terms, sentence_pairs, passage_terms = [], [], []
    offset = 0
    for d, doc in enumerate(documents):
        data = doc.text.encode("utf-8")
        texts.append(data)
        first_s, first_p = len(sentence_rows), len(passage_rows)
        for span in doc.sentences:
            sentence_rows.append((d, span.start, span.end))
            ts = terms(doc.text[span.start : span.end])
            sentence_terms.append(ts)
            sentence_pairs.append(bigrams(ts))
        for a, b in doc.passages:
            passage_rows.append((d, first_s + a, first_s + b))
            text = doc.text[doc.sentences[a].start : doc.sentences[b - 1].end]
            passage_terms.append(terms(passage_input(doc.title, text)))
        flags.append(np.asarray(doc.flagged, dtype=bool))
        rows.append(
            {
                "doc_id": doc.doc_id,
                "title": doc.title,
                "sha256": doc.sha256,
                "chars": len(doc.text),
                "sentences": len(doc.sentences),
                "passages": len(doc.passages),
                "bytes": [offset, offset + len(data)],
                "first_sentence": first_s,
                "first_passage": first_p,
                **({"flagged_sentences": int(flags[-1].sum())} if flags[-1].any() else {}),
                **({"uploaded": True} if doc.uploaded else {}),
                **({"added_by": doc.added_by} if doc.added_by is not None else {}),
                **({"added_at": doc.added_at} if doc.added_at is not None else {}),
                **({"places": places} if (places := doc.places.as_json()) else {}),
                **({"tags": list(doc.tags)} if doc.tags else {}),
            }
        )
        offset += len(data)
    with open(folder / "documents.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    (folder / "text.bin").write_bytes(b"".join(texts))
    (folder / "segment.json").write_text(json.dumps({"flags_version": FLAGS_VERSION}), "utf-8")
    np.save(folder / "sentences.npy", np.array(sentence_rows, dtype=np.int64).reshape(-1, 3))
    np.save(folder / "passages.npy", np.array(passage_rows, dtype=np.int64).reshape(-1, 3))
    np.save(folder / "flagged.npy", np.concatenate(flags) if flags else np.zeros(0, bool))
    vectors = {
        "sentence": _stack([d.sentence_vectors for d in documents], dim),
        "passage": _stack([d.passage_vectors for d in documents], dim),
    }
    Postings.build(sentence_terms, sentence_pairs).save(folder, "sentences")
    Postings.build(passage_terms).save(folder, "passages")
    save_vectors(folder, vectors, ann, ann_above)
    fsync_folder(folder)


def save_vectors(folder: Path, vectors: dict[str, np.ndarray], ann: str, ann_above: int) -> None:
    for kind, matrix in vectors.items():
        np.save(folder / f"{_FILE[kind]}.vectors.npy", matrix)
        if ann != "Flat" and len(matrix) > ann_above:
            index = build_ann(np.asarray(matrix), ann)
            (folder / f"{_FILE[kind]}.ann").write_bytes(faiss.serialize_index(index))


def _stack(parts: list[np.ndarray], dim: int) -> np.ndarray:
    if not parts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32).reshape(-1, dim)


def fsync_folder(folder: Path) -> None:
    for file in folder.iterdir():
        if file.is_file():
            with open(file, "rb") as f:
                os.fsync(f.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
