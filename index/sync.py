"""Bringing a store that many processes share (Milvus) up to date with folders of
documents, as `qa index` does for the index folder (index.build.index_paths): only new and
changed documents are split and embedded, the documents no longer in the folders are
deleted (except uploads, which exist nowhere else, unless asked to drop them).

No lock is taken: the store keeps each write whole, so a `qa index` cut short and run again
converges, and replicas answering meanwhile see each document old or new, never half."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from index.budget import Budget
from index.build import Progress, build, changed, keep_files, with_provenance
from index.embed import Embedder
from index.errors import NoDocuments
from index.files import KeptFiles
from index.read import read_documents
from index.stores.interface import Counts, Store

BATCH_DOCUMENTS = 256  # documents embedded and added at a time: each batch visible at once


def sync_store(
    store: Store,
    paths: Sequence[Path],
    embedder: Embedder,
    progress: Progress | None = None,
    keep_uploads: bool = True,
    budget: Budget | None = None,
    tags: Sequence[str] = (),
    files: KeptFiles | None = None,
) -> tuple[Counts, list[str]]:
    """Make ``store`` hold the documents under ``paths`` (and its uploads, with
    ``keep_uploads``), each tagged ``tags`` and its file kept in ``files``. Returns its
    counts and the uploads kept."""
    held = store.documents()
    documents = with_provenance(read_documents(paths, budget, tags), held, "cli")
    if not documents:
        raise NoDocuments("no readable .txt, .md, .html, .pdf or .docx documents to index")
    read = {d.doc_id for d in documents}
    new = changed(documents, held)
    gone = [e.doc_id for e in held if e.doc_id not in read and not (keep_uploads and e.uploaded)]
    batches = [new[b : b + BATCH_DOCUMENTS] for b in range(0, len(new), BATCH_DOCUMENTS)] or [[]]
    for n, batch in enumerate(batches):
        added = (
            build(batch, embedder, store.chunking, progress=progress).new_documents()
            if batch
            else []
        )
        # the removals go with the last batch: with one batch, one change seen at once
        store.add(added, delete=gone if n == len(batches) - 1 else ())
    store.refresh()
    keep_files(files, documents, [e.doc_id for e in store.documents()])
    kept = [e.doc_id for e in store.documents() if e.uploaded and e.doc_id not in read]
    return store.counts(), kept
