"""Building an index from documents: split, group, embed (reusing the vectors of
documents that did not change), then store."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.budget import Budget
from index.chunk import Chunking, group_passages, passage_input, pooled
from index.embed import Embedder
from index.errors import IndexError_, IndexNotFound, NoDocuments
from index.files import KeptFiles
from index.injection import flag_sentences
from index.lock import writing
from index.read import Document, read_documents
from index.split import Span, split_sentences
from index.store import (
    IndexedDocument,
    StoredIndex,
    as_indexed,
    load_index,
    read_generation,
    read_manifest,
    save_index,
    vectors_of,
)
from index.stores.interface import Counts, DocumentEntry, NewDocument
from index.stores.segments import Options, SegmentStore

log = logging.getLogger(__name__)

# wraps the list of embedding batches (of texts) from so many documents, e.g. with a bar
Progress = Callable[[list, int], Iterable]


def progress_bar(disable: bool | None = None) -> Progress:
    """A tqdm bar counting documents per second while their batches are embedded (each
    batch moves it by its share of the texts); ``disable``: as tqdm's (None: not on a pipe)."""

    def progress(batches: list, documents: int) -> Iterator[list]:
        from tqdm import tqdm

        total = sum(len(b) for b in batches) or 1
        with tqdm(total=documents, unit="doc", desc="embedding", disable=disable) as bar:
            for batch in batches:
                yield batch
                bar.update(documents * len(batch) / total)

    return progress


def guess_title(doc_id: str, text: str, first: Span | None) -> str:
    """A short first line standing alone is a heading; otherwise the file name says most."""
    if first is not None and first.start < 200:
        line = text[first.start : first.end]
        if "\n" not in line and len(line.split()) <= 12 and line[-1:] not in '.!?:;,”"':
            return line
    stem = Path(doc_id).stem
    return re.sub(r"[_\-]+", " ", stem).strip()


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
    passage_parts: list[np.ndarray | list[str] | _Pooled] = []
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
        flags.append(
            old.flags if old is not None else flag_sentences(document.text, spans, document.doc_id)
        )
        passage_rows += [(d, base + a, base + b) for a, b in ranges]
        if old is not None:
            sentence_parts.append(old.sentence_vectors)
            passage_parts.append(old.passage_vectors)
        else:
            sentence_parts.append([document.text[s.start : s.end] for s in spans])
            passage_parts.append(
                _Pooled([(base + a, base + b) for a, b in ranges])
                if chunking.passage_vectors == "pooled"
                else [
                    passage_input(title, document.text[spans[a].start : spans[b - 1].end])
                    for a, b in ranges
                ]
            )

    sentences = np.array(sentence_rows, dtype=np.int64).reshape(-1, 3)
    passages = np.array(passage_rows, dtype=np.int64).reshape(-1, 3)
    if len(sentences) == 0:
        raise NoDocuments("the documents hold no text to index")
    s_vecs, p_vecs = _embed_new(
        embedder,
        sentence_parts,
        passage_parts,
        progress,
        batch_size,
        sum(isinstance(p, list) for p in sentence_parts),
    )

    return StoredIndex(
        model=embedder.name,
        dim=embedder.dim,
        chunking=chunking,
        documents=docs,
        sentences=sentences,
        passages=passages,
        sentence_vectors=s_vecs,
        passage_vectors=p_vecs,
        flagged=np.concatenate(flags),
    )


def _embed_new(
    embedder: Embedder,
    sentence_parts: list[np.ndarray | list[str]],
    passage_parts: list[np.ndarray | list[str] | _Pooled],
    progress: Progress | None,
    batch_size: int,
    documents: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Replace every list of texts in the parts by its vectors and every pooled part by
    its sentences' mean; reused arrays stay."""
    texts = [t for part in sentence_parts + passage_parts if isinstance(part, list) for t in part]
    # longest first across all the texts, not only within each batch: a batch then holds
    # texts of about one length and pads little (13% less time on dev13's sentences and
    # passages; vectors within 3e-5 cosine of the batch-by-batch order's)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    batches = [
        [texts[k] for k in order[i : i + batch_size]] for i in range(0, len(texts), batch_size)
    ]
    vectors = [embedder.encode(b) for b in (progress(batches, documents) if progress else batches)]
    flat = np.zeros((len(texts), embedder.dim), np.float32)
    if vectors:
        flat[order] = np.concatenate(vectors)
    cursor = 0

    def resolve(parts: list, sentences: np.ndarray | None = None) -> np.ndarray:
        nonlocal cursor
        out = []
        for part in parts:
            if isinstance(part, list):
                out.append(flat[cursor : cursor + len(part)])
                cursor += len(part)
            elif isinstance(part, _Pooled):
                out.append(pooled(sentences, part.rows))
            else:
                out.append(part)
        return np.concatenate(out) if out else np.zeros((0, embedder.dim), np.float32)

    s_vecs = resolve(sentence_parts)
    return s_vecs, resolve(passage_parts, s_vecs)


@dataclass(frozen=True)
class _Pooled:
    """A new document's passages, to be pooled from its sentences' vectors (their rows
    in the whole build, [first, last) per passage)."""

    rows: list[tuple[int, int]]


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


def open_store(
    index_dir: Path, embedder: Embedder, chunking: Chunking, options: Options | None = None
) -> SegmentStore | None:
    """The store at ``index_dir`` if there is one this model and chunking can add to."""
    try:
        store = SegmentStore(index_dir, embedder.name, options)
    except IndexNotFound:
        return None
    except IndexError_ as exc:
        log.warning("rebuilding the index at %s: %s", index_dir, exc)
        return None
    if store.chunking != chunking:
        log.warning("rebuilding the index at %s: its passages were grouped otherwise", index_dir)
        return None
    return store


def index_paths(
    paths: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    chunking: Chunking,
    progress: Progress | None = None,
    keep_uploads: bool = True,
    budget: Budget | None = None,
    options: Options | None = None,
    tags: Sequence[str] = (),
    files: KeptFiles | None = None,
) -> tuple[Counts, list[str]]:
    """Index the documents under ``paths`` into ``index_dir``, and (``keep_uploads``)
    the documents uploaded into the index before, which exist nowhere else: a file of
    the same name under ``paths`` replaces one (``budget``: see ``read_documents``).
    Only new and changed documents are split and embedded; they are added as one segment
    and the documents no longer under ``paths`` are deleted, in one change. Each document
    read is tagged ``tags``, and its file kept in ``files``. Returns the index's counts and
    the uploads kept."""
    store = open_store(index_dir, embedder, chunking, options)
    held = store.documents() if store is not None else []
    documents = with_provenance(read_documents(paths, budget, tags), held, "cli")
    if not documents:
        raise NoDocuments("no readable .txt, .md, .html, .pdf or .docx documents to index")
    read = {d.doc_id for d in documents}
    if store is None:  # a whole new index (keeping the uploads of whatever was there)
        kept = [d for d in uploads_in(index_dir) if d.doc_id not in read] if keep_uploads else []
        index = build(documents + kept, embedder, chunking, progress=progress)
        with writing(index_dir):
            index.generation = (read_generation(index_dir) or 0) + 1
            save_index(index, index_dir, options)
            keep_files(files, documents, index.doc_ids)
        return Counts(**index.counts()), [d.doc_id for d in kept]
    new = changed(documents, held)
    # a document whose text is the same keeps its sentences and vectors (only its places or
    # tags are new: an index written before places were kept, or other --tag names)
    texts = {(e.doc_id, e.sha256) for e in held}
    restamped = [restamp(store, d) for d in new if (d.doc_id, d.sha256) in texts]
    new = [d for d in new if (d.doc_id, d.sha256) not in texts]
    # embedded without the lock (it takes minutes); what changed meanwhile is seen under it
    added = build(new, embedder, chunking, progress=progress).new_documents() if new else []
    added += [d for d in restamped if d is not None]
    with writing(index_dir, (options or Options()).write_wait):
        store.refresh()
        gone = [
            e.doc_id
            for e in store.documents()
            if e.doc_id not in read and not (keep_uploads and e.uploaded)
        ]
        store.add(added, delete=gone)
        keep_files(files, documents, [e.doc_id for e in store.documents()])
    kept = [e.doc_id for e in store.documents() if e.uploaded and e.doc_id not in read]
    return store.counts(), kept


def restamp(store: SegmentStore, document: Document) -> NewDocument | None:
    """``document`` as ``store`` holds it (its sentences, passages and vectors), with the
    places, tags and provenance read now; None when the store no longer holds it."""
    where = store._view.docs.get(document.doc_id)
    if where is None:
        return None
    held = store._view.new_document(*where)
    return replace(
        held,
        places=document.places,
        tags=document.tags,
        uploaded=document.uploaded,
        added_by=document.added_by,
        added_at=document.added_at,
    )


def changed(documents: Sequence[Document], held: Iterable[DocumentEntry]) -> list[Document]:
    """The documents the store does not hold as they are: new ones, and those whose text,
    places or tags changed (a document of an index written before places were kept is read
    again once)."""
    unchanged = {(e.doc_id, e.sha256, e.places, e.tags) for e in held}
    return [d for d in documents if (d.doc_id, d.sha256, d.places, d.tags) not in unchanged]


def keep_files(files: KeptFiles | None, documents: Sequence[Document], held: Iterable[str]) -> None:
    """Keep the files ``documents`` were read from, and only those of the documents
    ``held``."""
    if files is None:
        return
    for d in documents:
        if d.path is not None:
            files.copy(d.doc_id, d.path)
    files.keep_only(held)


def uploads_in(index_dir: Path) -> list[Document]:
    """The uploaded documents of an index this qa cannot add to (another model, another
    chunking, an older format): they exist nowhere else, so a rebuild keeps them."""
    try:
        manifest = read_manifest(index_dir)
    except IndexError_:
        return []
    if manifest.get("format_version") == 1:  # documents.jsonl held every text
        out = []
        with open(index_dir / "documents.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if row.get("uploaded"):
                    out.append(
                        Document(
                            row["doc_id"],
                            row["text"],
                            True,
                            row.get("added_by"),
                            row.get("added_at"),
                        )
                    )
        return out
    store = SegmentStore(index_dir)
    return [
        Document(e.doc_id, store.document(e.doc_id).text, True, e.added_by, e.added_at)
        for e in store.documents()
        if e.uploaded
    ]


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
    documents: Sequence[Document], previous: Iterable[DocumentEntry], added_by: str
) -> list[Document]:
    """The documents marked as added now by ``added_by``, except those the index already
    held with the same text: they keep who added them and when."""
    before = {(d.doc_id, d.sha256): d for d in previous}
    stamp = now()
    out = []
    for d in documents:
        old = before.get((d.doc_id, d.sha256))
        if old is not None and old.added_by is not None:
            out.append(replace(d, added_by=old.added_by, added_at=old.added_at))
        else:
            out.append(replace(d, added_by=added_by, added_at=stamp))
    return out
