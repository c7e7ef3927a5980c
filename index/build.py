"""Building an index from documents: split, group, embed (reusing the vectors of
documents that did not change), then store."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import bm25s
import numpy as np

from index.budget import Budget
from index.chunk import Chunking, group_passages
from index.embed import Embedder
from index.errors import IndexError_, IndexNotFound, NoDocuments
from index.injection import flag_sentences
from index.lock import writing
from index.read import Document, read_documents
from index.split import Span, split_sentences
from index.store import (
    IndexedDocument,
    StoredIndex,
    as_indexed,
    flat_index,
    load_index,
    read_generation,
    save_index,
    vectors_of,
)
from index.tokens import terms

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

# wraps the list of embedding batches, e.g. with a tqdm progress bar
Progress = Callable[[list], Iterable]


def guess_title(doc_id: str, text: str, first: Span | None) -> str:
    """A short first line standing alone is a heading; otherwise the file name says most."""
    if first is not None and first.start < 200:
        line = text[first.start : first.end]
        if "\n" not in line and len(line.split()) <= 12 and line[-1:] not in '.!?:;,”"':
            return line
    stem = Path(doc_id).stem
    return re.sub(r"[_\-]+", " ", stem).strip()


def passage_input(title: str, text: str) -> str:
    """What is embedded and matched for a passage: its document's title, then its text."""
    return text if text.startswith(title) else f"{title}\n{text}"


def _bm25(token_lists: list[list[str]]) -> bm25s.BM25:
    retriever = bm25s.BM25()
    # an empty unit would make bm25s drop it and shift every later id
    retriever.index([t or ["\x00"] for t in token_lists], show_progress=False)
    return retriever


def build(
    documents: Sequence[Document],
    embedder: Embedder,
    chunking: Chunking,
    previous: StoredIndex | Sequence[StoredIndex] | None = None,
    progress: Progress | None = None,
    batch_size: int = 256,
    split: Mapping[str, Sequence[Span]] | None = None,
) -> StoredIndex:
    """Split and group every document, then embed what is new in large batches (one
    encode call per document would be dominated by per-call overhead). A document that
    ``previous`` holds unchanged keeps its sentences, title and vectors (nothing of it is
    split or embedded again); ``split`` gives the sentences of others, split elsewhere."""
    if not documents:
        raise NoDocuments("no readable .txt, .md, .html, .pdf or .docx documents to index")
    reuse: dict[tuple[str, str], _Reused] = {}
    for old_index in [previous] if isinstance(previous, StoredIndex) else previous or []:
        reuse.update(_reusable(old_index, embedder, chunking))

    docs: list[IndexedDocument] = []
    sentence_rows: list[tuple[int, int, int]] = []
    flags: list[np.ndarray] = []
    passage_rows: list[tuple[int, int, int]] = []
    sentence_parts: list[np.ndarray | list[str]] = []
    passage_parts: list[np.ndarray | list[str]] = []
    for d, document in enumerate(documents):
        old = reuse.get((document.doc_id, document.sha256))
        if old is not None:
            spans, title = old.spans, old.title
        else:
            given = (split or {}).get(document.doc_id)
            spans = list(given) if given is not None else split_sentences(document.text)
            title = guess_title(document.doc_id, document.text, spans[0] if spans else None)
        docs.append(as_indexed(document, title))
        base = len(sentence_rows)
        ranges = group_passages(len(spans), chunking)
        sentence_rows += [(d, s.start, s.end) for s in spans]
        # an unchanged document's sentences are the same, so are their flags
        flags.append(old.flags if old is not None else flag_sentences(document.text, spans))
        passage_rows += [(d, base + a, base + b) for a, b in ranges]
        if old is not None:
            sentence_parts.append(old.sentence_vectors)
            passage_parts.append(old.passage_vectors)
        else:
            sentence_parts.append([document.text[s.start : s.end] for s in spans])
            passage_parts.append(
                [
                    passage_input(title, document.text[spans[a].start : spans[b - 1].end])
                    for a, b in ranges
                ]
            )

    sentences = np.array(sentence_rows, dtype=np.int64).reshape(-1, 3)
    passages = np.array(passage_rows, dtype=np.int64).reshape(-1, 3)
    if len(sentences) == 0:
        raise NoDocuments("the documents hold no text to index")
    s_vecs, p_vecs = _embed_new(embedder, sentence_parts, passage_parts, progress, batch_size)

    def sentence_text(i: int) -> str:
        doc, start, end = sentences[i]
        return docs[doc].text[start:end]

    def passage_text(j: int) -> str:
        doc, first, last = passages[j]
        text = docs[doc].text[sentences[first][1] : sentences[last - 1][2]]
        return passage_input(docs[doc].title, text)

    return StoredIndex(
        model=embedder.name,
        dim=embedder.dim,
        chunking=chunking,
        documents=docs,
        sentences=sentences,
        passages=passages,
        sentence_vectors=flat_index(s_vecs, embedder.dim),
        passage_vectors=flat_index(p_vecs, embedder.dim),
        sentence_bm25=_bm25([terms(sentence_text(i)) for i in range(len(sentences))]),
        passage_bm25=_bm25([terms(passage_text(j)) for j in range(len(passages))]),
        flagged=np.concatenate(flags),
    )


def _embed_new(
    embedder: Embedder,
    sentence_parts: list[np.ndarray | list[str]],
    passage_parts: list[np.ndarray | list[str]],
    progress: Progress | None,
    batch_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Replace every list of texts in the parts by its vectors; reused arrays stay."""
    texts = [t for part in sentence_parts + passage_parts if isinstance(part, list) for t in part]
    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    vectors = [embedder.encode(b) for b in (progress(batches) if progress else batches)]
    flat = np.concatenate(vectors) if vectors else np.zeros((0, embedder.dim), np.float32)
    cursor = 0

    def resolve(parts: list[np.ndarray | list[str]]) -> np.ndarray:
        nonlocal cursor
        out = []
        for part in parts:
            if isinstance(part, list):
                out.append(flat[cursor : cursor + len(part)])
                cursor += len(part)
            else:
                out.append(part)
        return np.concatenate(out) if out else np.zeros((0, embedder.dim), np.float32)

    return resolve(sentence_parts), resolve(passage_parts)


@dataclass(frozen=True)
class _Reused:
    spans: list[Span]
    title: str
    sentence_vectors: np.ndarray
    passage_vectors: np.ndarray
    flags: np.ndarray  # per sentence: instruction-like (index.injection)


def _reusable(
    previous: StoredIndex | None, embedder: Embedder, chunking: Chunking
) -> dict[tuple[str, str], _Reused]:
    """What the previous index holds of each document, by (doc_id, sha256), when its
    vectors are still valid. Linear in the index's size (rows grouped by one sort)."""
    if previous is None or previous.model != embedder.name or previous.chunking != chunking:
        return {}
    s_all = vectors_of(previous.sentence_vectors)
    p_all = vectors_of(previous.passage_vectors)
    n = len(previous.documents)
    s_bounds = np.searchsorted(previous.sentences[:, 0], np.arange(n + 1))
    p_bounds = np.searchsorted(previous.passages[:, 0], np.arange(n + 1))
    out = {}
    for d, doc in enumerate(previous.documents):
        rows = previous.sentences[s_bounds[d] : s_bounds[d + 1]]
        out[(doc.doc_id, doc.sha256)] = _Reused(
            [Span(int(start), int(end)) for _, start, end in rows],
            doc.title,
            s_all[s_bounds[d] : s_bounds[d + 1]],
            p_all[p_bounds[d] : p_bounds[d + 1]],
            previous.flagged[s_bounds[d] : s_bounds[d + 1]],
        )
    return out


def load_previous(index_dir: Path, embedder: Embedder) -> StoredIndex | None:
    """The index already on disk, if any and readable, for reusing its vectors."""
    try:
        return load_index(index_dir)
    except IndexNotFound:
        return None
    except IndexError_ as exc:
        log.warning("not reusing the index at %s: %s", index_dir, exc)
        return None


def index_paths(
    paths: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    chunking: Chunking,
    progress: Progress | None = None,
    keep_uploads: bool = True,
    budget: Budget | None = None,
) -> tuple[StoredIndex, list[str]]:
    """Index the documents under ``paths`` into ``index_dir``, and (``keep_uploads``)
    the documents uploaded into the index before, which exist nowhere else: a file of
    the same name under ``paths`` replaces one (``budget``: see ``read_documents``).
    Returns the index and the uploads kept."""
    # built without the lock (it takes minutes), on the index there was at the start ...
    previous = load_previous(index_dir, embedder)
    documents = with_provenance(read_documents(paths, budget), previous, "cli")
    read = {d.doc_id for d in documents}

    def uploads(previous: StoredIndex | None) -> list[Document]:
        return [
            d.source()
            for d in (previous.documents if previous is not None and keep_uploads else [])
            if d.uploaded and d.doc_id not in read
        ]

    kept = uploads(previous)
    index = build(documents + kept, embedder, chunking, previous, progress)
    with writing(index_dir):
        # ... and rebuilt on a newer one if a server saved one meanwhile: its uploads are
        # kept too (only they are embedded now), never lost under an index built before them
        generation = read_generation(index_dir)
        if generation != (previous.generation if previous is not None else None):
            latest = load_previous(index_dir, embedder)
            kept = uploads(latest)
            index = build(documents + kept, embedder, chunking, [index, latest], progress)
        index.generation = (generation or 0) + 1
        save_index(index, index_dir)
    return index, [d.doc_id for d in kept]


def with_documents(
    index: StoredIndex,
    embedder: Embedder,
    add: Sequence[Document] = (),
    remove: Sequence[str] = (),
    split: Mapping[str, Sequence[Span]] | None = None,
    also: Sequence[StoredIndex] = (),
) -> StoredIndex:
    """A new index with documents added (or replaced) and removed; the others keep
    their sentences and vectors, so only what changed is split and embedded (``split``:
    the added documents' sentences, when known; ``also``: more indexes to reuse from)."""
    replaced = {d.doc_id for d in add} | set(remove)
    kept = [d.source() for d in index.documents if d.doc_id not in replaced]
    return build(kept + list(add), embedder, index.chunking, [index, *also], split=split)


def now() -> str:
    """The time a document is added, ISO 8601 UTC to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_provenance(
    documents: Sequence[Document], previous: StoredIndex | None, added_by: str
) -> list[Document]:
    """The documents marked as added now by ``added_by``, except those the previous index
    already held with the same text: they keep who added them and when."""
    before = {(d.doc_id, d.sha256): d for d in previous.documents} if previous else {}
    stamp = now()
    out = []
    for d in documents:
        old = before.get((d.doc_id, d.sha256))
        if old is not None and old.added_by is not None:
            out.append(replace(d, added_by=old.added_by, added_at=old.added_at))
        else:
            out.append(replace(d, added_by=added_by, added_at=stamp))
    return out
