"""Document management over HTTP: upload, read and delete one document at a time.

Every change updates the index incrementally (only the added document is embedded), saves
it atomically and swaps it into the engine; changes are serialised by one lock per app, and
run in the threadpool so questions keep being answered meanwhile."""

from __future__ import annotations

import threading
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from index.build import build, now, with_documents
from index.extract import SUFFIXES, extract_text
from index.read import Document
from index.store import IndexedDocument, StoredIndex, save_index
from qa.engine import Engine
from qa.errors import (
    DocumentNotFound,
    DocumentTooLarge,
    IndexNotFound,
    LastDocument,
    UnreadableDocument,
    UnsupportedType,
)
from qa.security import principal

# Room for the multipart boundaries and headers around the file itself.
_FORM_OVERHEAD = 16 * 1024


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
    index = engine.index
    if index is None:
        raise IndexNotFound(str(engine.settings.index_dir))
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
    text = extract_text(data, name)
    document = Document(name, text, uploaded=True, added_by=added_by, added_at=now())
    with lock:
        current = engine.index
        replaced = current is not None and name in current.doc_ids
        if current is None:
            new = build([document], engine.embedder, engine.settings.chunking)
        else:
            new = with_documents(current, engine.embedder, add=[document])
        save_index(new, engine.settings.index_dir)
        engine.use(new)
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
    with lock:
        current = engine.index
        if current is None:
            raise IndexNotFound(str(engine.settings.index_dir))
        find(current, doc_id)
        if len(current.documents) == 1:
            raise LastDocument(
                f"{doc_id!r} is the only document; an index needs at least one: "
                "upload another document first, then delete this one"
            )
        new = with_documents(current, engine.embedder, remove=[doc_id])
        save_index(new, engine.settings.index_dir)
        engine.use(new)
    return {"doc_id": doc_id, "documents": len(new.documents)}


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


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
    if declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
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


@router.get("/{doc_id:path}", response_model=DocumentText)
async def read(doc_id: str, engine: EngineDep) -> dict:
    """A document's text and its sentences' [start, end) offsets into that text."""
    return document_text(engine, doc_id)


@router.delete("/{doc_id:path}", response_model=Deleted)
async def delete(doc_id: str, engine: EngineDep, lock: LockDep) -> dict:
    """Remove a document; the others keep their vectors."""
    return await run_in_threadpool(remove_document, engine, lock, doc_id)


def too_large(name: str, size: int, limit: int) -> str:
    return (
        f"{name} is {size:,} bytes; uploads are limited to {limit:,} bytes "
        "(the QA_MAX_UPLOAD_BYTES setting)"
    )


def include_documents(app: FastAPI) -> None:
    """Add the document routes to ``app``, with the status codes of their errors."""
    app.state.documents_lock = threading.Lock()
    app.include_router(router)

    def status(code: int):
        async def handler(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=code)

        return handler

    app.add_exception_handler(DocumentTooLarge, status(413))
    app.add_exception_handler(UnsupportedType, status(415))
    app.add_exception_handler(UnreadableDocument, status(422))
    app.add_exception_handler(LastDocument, status(409))
