"""Document management over HTTP: upload, read and delete one document at a time.

Every change updates the index incrementally: only the added document is read, split and
embedded (in a worker process within a time and memory budget, then here, all before any
lock is taken) and written as a new segment; a deletion is a tombstone (index.stores.
segments). Changes are serialised by one lock per app and by the index's writer lock
(``index.lock``), under which the index is first re-read if another process changed it;
they run in the write queue (qa/http/uploads.py: workers of their own, a budget of time)
so questions keep being answered meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from index.budget import prepare, within_deadline
from index.build import build, now
from index.extract import SUFFIXES, extractor_for
from index.files import KeptFiles
from index.places import Places
from index.read import Document
from index.unmask import hidden_in
from qa.engine import Engine
from qa.errors import (
    DocumentNotFound,
    DocumentTooLarge,
    LastDocument,
    UnreadableDocument,
)
from qa.http.admission import FORM_OVERHEAD, too_large
from qa.http.security import principal
from qa.http.uploads import client_of, include_uploads, write_queue
from qa.scope import check_tag

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
    tags: list[str]


class DocumentText(BaseModel):
    id: str
    title: str
    text: str
    sentences: list[tuple[int, int]]
    flagged: list[int]  # indices into sentences: instruction-like, never cited
    added_by: str | None
    added_at: str | None
    tags: list[str]
    # a PDF's [offset, page] where each page's text starts (1-based); [] for other files
    pages: list[tuple[int, int]]
    page_labels: list[str]  # the printed number of each page, where the PDF labels them
    sections: list[tuple[int, str]]  # [offset, heading] where each heading's part starts
    file: str | None  # where the original file is (GET), null when it is not kept


class Uploaded(BaseModel):
    doc_id: str
    title: str
    characters: int
    sentences: int
    replaced: bool


class Deleted(BaseModel):
    doc_id: str
    documents: int


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(max_length=100, description="the document's tags, all of them")


class Tagged(BaseModel):
    doc_id: str
    tags: list[str]


def upload_id(filename: str | None) -> str:
    """The document id of an upload: its file name without any folder part."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    if not name:
        raise UnreadableDocument("the upload needs a file name, such as notes.txt")
    if hidden := hidden_in(name):
        # shown reversed or not at all, they make a name pass for another (U+202E)
        raise UnreadableDocument(
            f"the file name {name!a} holds invisible or direction-changing characters "
            f"({', '.join(sorted(set(hidden)))}): rename the file"
        )
    return name


def document_text(engine: Engine, doc_id: str) -> dict:
    found = engine.require_store().document(doc_id)
    if found is None:
        raise DocumentNotFound(f"no document {doc_id!r} in the index")
    entry = found.entry
    return {
        "id": entry.doc_id,
        "title": entry.title,
        "text": found.text,
        "sentences": [(s.start, s.end) for s in found.sentences],
        "flagged": [k for k, f in enumerate(found.flagged) if f],
        "added_by": entry.added_by,
        "added_at": entry.added_at,
        "tags": list(entry.tags),
        "pages": list(entry.places.pages),
        "page_labels": list(entry.places.labels),
        "sections": list(entry.places.sections),
        "file": file_url(entry.doc_id) if kept_files(engine).path(doc_id).is_file() else None,
    }


def file_url(doc_id: str) -> str:
    return f"/documents/{quote(doc_id, safe='/')}/file"


def kept_files(engine: Engine) -> KeptFiles:
    return KeptFiles(engine.settings.kept_files)


def add_document(
    engine: Engine,
    lock: threading.Lock,
    name: str,
    data: bytes,
    added_by: str,
    tags: Sequence[str] = (),
) -> dict:
    """Index one file, replacing a document of the same name; an unreadable file raises
    before the index is touched. ``added_by``: who sent it (an API key's name, or "http").
    Only this document is split and embedded, and written as a new segment: the cost does
    not grow with the index."""
    settings = engine.settings
    extractor_for(name)  # a type that is not indexed is refused before a worker starts
    prepared = prepare(data, name, settings.budget)
    places = Places(prepared.pages, prepared.page_labels, prepared.sections)
    document = Document(
        name, prepared.text, uploaded=True, added_by=added_by, added_at=now(), places=places,
        tags=tuple(sorted(set(tags))),
    )  # fmt: skip
    store = engine.store
    chunking = store.chunking if store is not None else settings.chunking
    # embedded before the locks are taken
    alone = build(
        [document],
        engine.document_embedder,
        chunking,
        split={name: prepared.spans},
        progress=within_deadline,  # the change's budget (qa/http/uploads.py)
    )
    with lock, engine.kind.writing(settings, WRITE_WAIT_SECONDS):
        engine.refresh()
        store = engine.store
        if store is None:  # the first document: a new index
            engine.kind.start(settings, alone)
            replaced = False
            engine.reload()
        else:
            replaced = store.document(name) is not None
            store.add(alone.new_documents())
            engine.refresh()
        kept_files(engine).put(name, data)
    indexed = alone.documents[0]
    return {
        "doc_id": name,
        "title": indexed.title,
        "characters": len(indexed.text),
        "sentences": len(alone.sentences),
        "replaced": replaced,
    }


def tag_document(engine: Engine, lock: threading.Lock, doc_id: str, tags: list[str]) -> dict:
    """Give a document these tags; nothing is read or embedded again."""
    tags = sorted({check_tag(t) for t in tags})
    with lock, engine.kind.writing(engine.settings, WRITE_WAIT_SECONDS):
        engine.refresh()
        if not engine.require_store().set_tags(doc_id, tags):
            raise DocumentNotFound(f"no document {doc_id!r} in the index")
        engine.refresh()
    return {"doc_id": doc_id, "tags": tags}


def remove_document(engine: Engine, lock: threading.Lock, doc_id: str) -> dict:
    with lock, engine.kind.writing(engine.settings, WRITE_WAIT_SECONDS):
        engine.refresh()
        store = engine.require_store()
        if store.document(doc_id) is None:
            raise DocumentNotFound(f"no document {doc_id!r} in the index")
        if store.counts().documents == 1:
            raise LastDocument(
                f"{doc_id!r} is the only document; an index needs at least one: "
                "upload another document first, then delete this one"
            )
        store.delete([doc_id])
        engine.refresh()
        kept_files(engine).remove([doc_id])
    return {"doc_id": doc_id, "documents": store.counts().documents}


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
                    },
                    "tags": {
                        "type": "string",
                        "description": "tags for the document, separated by commas (optional)",
                    },
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
        tags = upload_tags(form.getlist("tags"))
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise DocumentTooLarge(too_large(name, file.size or len(data), limit))
    who = principal(request)
    queue = write_queue(request)
    return await queue.run(
        client_of(request, who), name, len(data), add_document, engine, lock, name, data, who, tags
    )


def upload_tags(values: list) -> list[str]:
    """The upload's tags: fields `tags`, each one tag or several separated by commas."""
    out = []
    for value in values:
        if not isinstance(value, str):
            raise UnreadableDocument("`tags` is a text field: a tag, or tags separated by commas")
        out += [check_tag(t) for t in value.split(",") if t.strip()]
    return out


@router.get("", response_model=list[DocumentOut])
async def listing(engine: EngineDep) -> list[dict]:
    """Every indexed document: its size, who added it and when, flagged sentences."""
    engine.require_store()
    return [{"id": d.doc_id, **asdict(d), "tags": list(d.tags)} for d in engine.documents()]


@router.get("/{doc_id:path}", response_model=DocumentText)
async def read(doc_id: str, engine: EngineDep) -> dict:
    """A document's text and its sentences' [start, end) offsets into that text."""
    return document_text(engine, doc_id)


@router.patch("/{doc_id:path}", response_model=Tagged)
async def retag(doc_id: str, body: TagsIn, engine: EngineDep, lock: LockDep) -> dict:
    """Replace a document's tags (questions can be scoped to a tag)."""
    return await run_in_threadpool(tag_document, engine, lock, doc_id, body.tags)


@router.delete("/{doc_id:path}", response_model=Deleted)
async def delete(doc_id: str, engine: EngineDep, lock: LockDep, request: Request) -> dict:
    """Remove a document; the others keep their vectors."""
    who = client_of(request, principal(request))
    return await write_queue(request).run(who, doc_id, 0, remove_document, engine, lock, doc_id)


def include_documents(app: FastAPI) -> None:
    """Add the document routes to ``app`` (their errors' statuses: qa/http/statuses.py)."""
    app.state.documents_lock = threading.Lock()
    include_uploads(app)
    app.include_router(router)
