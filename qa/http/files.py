"""The original file of a document: ``GET /documents/{doc_id}/file``.

What a user uploaded must never run in qa's origin, where it could read the documents and
act with the user's key: a PDF is served inline (the page renders it with pdf.js, which
draws it and runs none of its scripts), text and Markdown as ``text/plain``, HTML as
``text/plain`` too (its source, never a page), a Word file as an attachment. Every one
with ``nosniff`` and a CSP of ``sandbox`` (a unique origin, no scripts), so that even a
browser that rendered it would run nothing with qa's cookies or storage."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote

from fastapi import APIRouter, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from qa.errors import DocumentNotFound
from qa.http.documents import EngineDep, kept_files

# suffix -> (content type, inline); anything else is an attachment of bytes
TYPES = {
    ".pdf": ("application/pdf", True),
    ".txt": ("text/plain; charset=utf-8", True),
    ".md": ("text/plain; charset=utf-8", True),
    ".html": ("text/plain; charset=utf-8", True),
    ".htm": ("text/plain; charset=utf-8", True),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", False),
}
FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
# a PDF: no sandbox (Chromium's viewer refuses a sandboxed PDF), nothing else loads
PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"

router = APIRouter(prefix="/documents", tags=["documents"])


def disposition(doc_id: str, inline: bool) -> str:
    name = PurePosixPath(doc_id).name
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"{'inline' if inline else 'attachment'}; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"


@router.get(
    "/{doc_id:path}/file",
    response_class=Response,
    responses={200: {"content": {t: {} for t, _ in TYPES.values()}}},
)
async def original(doc_id: str, engine: EngineDep) -> Response:
    """The document's original file, as uploaded or indexed, byte for byte."""
    store = engine.require_store()
    if store.document(doc_id) is None:
        raise DocumentNotFound(f"no document {doc_id!r} in the index")
    data = await run_in_threadpool(kept_files(engine).get, doc_id)
    if data is None:
        raise DocumentNotFound(
            f"the file of {doc_id!r} is not kept (indexed before files were kept): "
            "index it again or upload it again"
        )
    suffix = PurePosixPath(doc_id).suffix.lower()
    media, inline = TYPES.get(suffix, ("application/octet-stream", False))
    return Response(
        data,
        media_type=media,
        headers={
            "content-disposition": disposition(doc_id, inline),
            "x-content-type-options": "nosniff",
            "content-security-policy": PDF_CSP if suffix == ".pdf" else FILE_CSP,
            "cache-control": "no-cache",
        },
    )


def include_files(app: FastAPI) -> None:
    """Add the route; before the documents' own, whose ``{doc_id:path}`` matches it too."""
    app.include_router(router)
