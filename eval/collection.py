"""The document collection of a run: read the docs folder, check the Q&A set against it,
and make sure an index of exactly those documents exists (reusing one whose manifest
matches, and the vectors of unchanged documents otherwise)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from eval.data import QAItem
from eval.errors import EvalError
from index.build import Progress, build, load_previous
from index.chunk import Chunking
from index.embed import Embedder
from index.errors import IndexError_
from index.read import Document, read_documents
from index.store import save_index
from index.stores.segments import SegmentStore

log = logging.getLogger(__name__)


def load_documents(docs_dir: Path) -> list[Document]:
    if not docs_dir.is_dir():
        raise EvalError(f"no docs folder at {docs_dir}")
    documents = read_documents([docs_dir])
    if not documents:
        raise EvalError(f"no readable .txt, .md, .html or .pdf documents in {docs_dir}")
    return documents


def missing_docs(items: Sequence[QAItem], doc_ids: set[str]) -> list[QAItem]:
    """Questions whose gold ``doc`` is not in the collection."""
    return [item for item in items if item.doc not in doc_ids]


def manifest_matches(
    index_dir: Path, documents: Sequence[Document], model: str, chunking: Chunking
) -> bool:
    """Whether the index at ``index_dir`` holds exactly these documents, unchanged, built
    with this model and chunking."""
    try:
        store = SegmentStore(index_dir, model)
    except (IndexError_, OSError, ValueError, KeyError):
        return False
    same_docs = {e.doc_id: e.sha256 for e in store.documents()} == {
        d.doc_id: d.sha256 for d in documents
    }
    return same_docs and store.chunking == chunking


def ensure_index(
    documents: Sequence[Document],
    index_dir: Path,
    embedder: Embedder,
    chunking: Chunking,
    reuse_from: Sequence[Path] = (),
    progress: Progress | None = None,
) -> bool:
    """Make ``index_dir`` an index of ``documents``; True when an existing one was reused
    as is. Vectors are taken from ``index_dir`` itself or, failing that, from the first
    of ``reuse_from`` that loads, so a filtered collection costs no new embeddings."""
    if manifest_matches(index_dir, documents, embedder.name, chunking):
        log.info("reusing the index at %s (manifest matches the documents)", index_dir)
        return True
    previous = None
    for candidate in (index_dir, *reuse_from):
        previous = load_previous(candidate, embedder)
        if previous is not None:
            break
    index = build(list(documents), embedder, chunking, previous, progress)
    save_index(index, index_dir)
    return False


def excluded_index_dir(index_dir: Path, excluded: set[str]) -> Path:
    """A separate index directory per excluded set, so the full index stays untouched
    and the same calibration run reuses its own."""
    if not excluded:
        return index_dir
    key = hashlib.sha256("\n".join(sorted(excluded)).encode("utf-8")).hexdigest()[:12]
    return index_dir.with_name(f"{index_dir.name}-minus-{key}")
