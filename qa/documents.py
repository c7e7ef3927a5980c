"""Document management over HTTP: upload, read and delete one document at a time.

Every change updates the index incrementally (only the added document is read, split and
embedded: in a worker process within a time and memory budget, then here, all before any
lock is taken), saves it atomically and swaps it into the engine. Changes are serialised by
one lock per app and by the index's writer lock (``index.lock``), under which the index is
first reloaded if another process saved a newer one; they run in the threadpool so
questions keep being answered meanwhile."""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from index.budget import prepare
from index.build import build, now, with_documents
from index.extract import SUFFIXES, extractor_for
from index.lock import writing
from index.read import Document
from index.store import IndexedDocument, StoredIndex, read_generation, save_index
from qa.engine import Engine
from qa.errors import (
    DocumentNotFound,
    DocumentTooLarge,
    IndexBusy,
    LastDocument,
    UnreadableDocument,
)
from qa.security import principal

# Room for the multipart boundaries and headers around the file itself.
FORM_OVERHEAD = 16 * 1024
# How long a change waits for another process (`qa index`) to finish writing the index.
WRITE_WAIT_SECONDS = 30.0


class DocumentOut(BaseModel):
    id: str
    title: str
    characters: int
    sentences: int
    uploaded: bool  # added over HTTP (not from a folder given to `qa index`)
    added_by: str | None  # an API key's name, "http" (no keys configured) or "cli"
    added_at: str | None  # ISO 8601 UTC
    flagged_sentences: int  # instruction-like sentences, never cited


class DocumentText(BaseModel):
    id: str
    title: str
    text: str
    sentences: list[tuple[int, int]]
    flagged: list[int]  # indices into sentences: instruction-like, never cited
    added_by: str | None
    added_at: str | None


class Uploaded(BaseModel):
    doc_id: str
    title: str
    characters: int
    sentences: int
    replaced: bool


class Deleted(BaseModel):
    doc_id: str
    documents: int


def upload_id(filename: str | None) -> str:
    """The document id of an upload: its file name without any folder part."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    if not name or any(ord(c) < 32 for c in name):
        raise UnreadableDocument("the upload needs a file name, such as notes.txt")
    return name


def find(index: StoredIndex, doc_id: str) -> int:
    for d, document in enumerate(index.documents):
        if document.doc_id == doc_id:
            return d
    raise DocumentNotFound(f"no document {doc_id!r} in the index")


def document_text(engine: Engine, doc_id: str) -> dict:
    index = engine.require_index()
    d = find(index, doc_id)
    document = index.documents[d]
    mine = index.sentences[:, 0] == d
    rows = index.sentences[mine]
    return {
        "id": document.doc_id,
        "title": document.title,
        "text": document.text,
        "sentences": [(int(start), int(end)) for _, start, end in rows],
        "flagged": [int(k) for k in index.flagged[mine].nonzero()[0]],
        "added_by": document.added_by,
        "added_at": document.added_at,
    }


def add_document(
    engine: Engine, lock: threading.Lock, name: str, data: bytes, added_by: str
) -> dict:
    """Index one file, replacing a document of the same name; an unreadable file raises
    before the index is touched. ``added_by``: who sent it (an API key's name, or "http")."""
    settings = engine.settings
    extractor_for(name)  # a type that is not indexed is refused before a worker starts
    prepared = prepare(data, name, settings.budget)
    document = Document(name, prepared.text, uploaded=True, added_by=added_by, added_at=now())
    split = {name: prepared.spans}
    chunking = engine.index.chunking if engine.index is not None else settings.chunking
    # embedded before the locks are taken; the index built under them reuses these vectors
    alone = build([document], engine.embedder, chunking, split=split)
    with lock, writing(settings.index_dir, WRITE_WAIT_SECONDS):
        current = _latest(engine)
        replaced = current is not None and name in current.doc_ids
        if current is None:
            new = alone
        else:
            new = with_documents(current, engine.embedder, [document], split=split, also=[alone])
        _save(engine, new, current)
    d = find(new, name)
    indexed: IndexedDocument = new.documents[d]
    return {
        "doc_id": name,
        "title": indexed.title,
        "characters": len(indexed.text),
        "sentences": int(new.sentence_counts()[d]),
        "replaced": replaced,
    }


def remove_document(engine: Engine, lock: threading.Lock, doc_id: str) -> dict:
    with lock, writing(engine.settings.index_dir, WRITE_WAIT_SECONDS):
        current = _latest(engine) or engine.require_index()
        find(current, doc_id)
        if len(current.documents) == 1:
            raise LastDocument(
                f"{doc_id!r} is the only document; an index needs at least one: "
                "upload another document first, then delete this one"
            )
        new = with_documents(current, engine.embedder, remove=[doc_id])
        _save(engine, new, current)
    return {"doc_id": doc_id, "documents": len(new.documents)}


def _latest(engine: Engine) -> StoredIndex | None:
    """The index a change builds on: the newest on disk (called under the writer lock)."""
    engine.refresh()
    return engine.index


def _save(engine: Engine, new: StoredIndex, base: StoredIndex | None) -> None:
    """Save ``new`` as the generation after the one on disk, which ``base`` must be."""
    on_disk = read_generation(engine.settings.index_dir)
    expected = base.generation if base is not None else None
    if on_disk != expected:  # cannot happen under the lock, unless the disk was edited
        raise IndexBusy(
            "the index on disk changed while this change was made; nothing was saved: try again"
        )
    new.generation = (on_disk or 0) + 1
    save_index(new, engine.settings.index_dir)
    engine.use(new)


async def get_engine(request: Request) -> Engine:
    """The app's engine, reloaded first if another process saved a newer index."""
    engine: Engine = request.app.state.engine
    if engine.changed():
        await run_in_threadpool(engine.refresh)
    return engine


def get_lock(request: Request) -> threading.Lock:
    return request.app.state.documents_lock


EngineDep = Annotated[Engine, Depends(get_engine)]
LockDep = Annotated[threading.Lock, Depends(get_lock)]

router = APIRouter(prefix="/documents", tags=["documents"])

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": f"a {', '.join(SUFFIXES)} file",
                    }
                },
            }
        }
    },
}


@router.post(
    "", status_code=201, response_model=Uploaded, openapi_extra={"requestBody": _UPLOAD_BODY}
)
async def upload(request: Request, engine: EngineDep, lock: LockDep) -> dict:
    """Add a document (multipart field `file`), or replace the one of the same name."""
    limit = engine.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    # Refuse before reading the body when its declared length already says too much.
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise DocumentTooLarge(too_large("the upload", int(declared), limit))
    async with request.form(max_files=1, max_fields=8) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise UnreadableDocument("no file: send it as the multipart/form-data field `file`")
        name = upload_id(file.filename)
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise DocumentTooLarge(too_large(name, file.size or len(data), limit))
    return await run_in_threadpool(add_document, engine, lock, name, data, principal(request))


@router.get("", response_model=list[DocumentOut])
async def listing(engine: EngineDep) -> list[dict]:
    """Every indexed document: its size, who added it and when, flagged sentences."""
    engine.require_index()
    return [{"id": d.doc_id, **asdict(d)} for d in engine.documents()]


@router.get("/{doc_id:path}", response_model=DocumentText)
async def read(doc_id: str, engine: EngineDep) -> dict:
    """A document's text and its sentences' [start, end) offsets into that text."""
    return document_text(engine, doc_id)


@router.delete("/{doc_id:path}", response_model=Deleted)
async def delete(doc_id: str, engine: EngineDep, lock: LockDep) -> dict:
    """Remove a document; the others keep their vectors."""
    return await run_in_threadpool(remove_document, engine, lock, doc_id)


def too_large(name: str, size: int, limit: int, verb: str = "is") -> str:
    return (
        f"{name} {verb} {size:,} bytes; uploads are limited to {limit:,} bytes "
        "(the QA_MAX_UPLOAD_BYTES setting)"
    )


def include_documents(app: FastAPI) -> None:
    """Add the document routes to ``app`` (their errors' statuses: qa/statuses.py)."""
    app.state.documents_lock = threading.Lock()
    app.include_router(router)
