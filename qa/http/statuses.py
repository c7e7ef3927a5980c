"""Which HTTP status each domain error answers with: one table for every route but the
OpenAI-compatible ones (which answer in OpenAI's shape, qa/http/openai/errors.py). The body is
always ``{"detail": message}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from qa.errors import (
    AccessDenied,
    BadQuestion,
    DiskFull,
    DocumentNotFound,
    DocumentTooLarge,
    IndexBusy,
    IndexError_,
    LastDocument,
    QAError,
    UnreadableDocument,
    UnsupportedType,
    WritesQueued,
)
from qa.read.answerers.errors import UpstreamError

# the first row the error is an instance of wins: the more specific kinds come first
STATUSES: list[tuple[type[Exception], int, dict[str, str]]] = [
    (UnsupportedType, 415, {}),  # before UnreadableDocument, of which it is a kind
    (UnreadableDocument, 422, {}),  # OverBudget too: the limit is named in the message
    (DocumentTooLarge, 413, {}),
    (DocumentNotFound, 404, {}),
    (LastDocument, 409, {}),
    (BadQuestion, 422, {}),
    (DiskFull, 507, {}),
    (IndexBusy, 503, {"retry-after": "5"}),
    (WritesQueued, 503, {"retry-after": "5"}),
    (IndexError_, 503, {}),  # no index, or one built otherwise
    (UpstreamError, 502, {}),
    (QAError, 400, {}),
]


def status_of(exc: Exception) -> tuple[int, dict[str, str]]:
    if isinstance(exc, AccessDenied):  # carries its own (401, 403, 429 with Retry-After)
        return exc.status, dict(exc.headers)
    for kind, status, headers in STATUSES:
        if isinstance(exc, kind):
            return status, headers
    raise exc


async def error_response(request: Request, exc: Exception) -> JSONResponse:
    status, headers = status_of(exc)
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


def include_statuses(app: FastAPI) -> None:
    for kind in {AccessDenied, *(kind for kind, _, _ in STATUSES)}:
        app.add_exception_handler(kind, error_response)
