"""Admission control: what the server takes in before any route runs.

- A request body larger than its limit is refused with 413 while it is read: at once when
  its Content-Length says so, else as soon as the bytes received pass the limit (nothing
  past the limit is read, buffered or spooled to disk). Uploads (`POST /documents`) have
  ``QA_MAX_UPLOAD_BYTES`` plus room for the form's headers, every other body
  ``QA_MAX_BODY_BYTES``.
- A body must arrive whole within ``QA_BODY_SECONDS``, else 408: a client that sends half a
  request and waits holds nothing for long.
- At most ``QA_MAX_INFLIGHT`` questions are answered at once; one more is refused at once
  with 503 and ``Retry-After`` rather than queued behind the others (queued answers all get
  slower, and clients retry anyway). A question is counted only once its body has arrived
  whole and is a JSON object: a client sending half a body holds no question's place (only
  its connection, until ``QA_BODY_SECONDS``), and a body that is not JSON (a form or a
  ``text/plain`` post from another site's page) neither takes a place nor spends the
  client's question budget (the charge the access rules left in the scope,
  qa/http/security.py).
- A request that fails validation is answered with what was wrong and where, never with the
  input itself (a 100 MB body is not echoed back).

A pure ASGI middleware (no buffering of bodies or of streamed answers)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.errors import AccessDenied
from qa.http.openai.shape import TYPES_BY_STATUS
from qa.settings import Settings

# Validation messages are cut to this: they name the problem, never repeat a long input.
MAX_MESSAGE = 200
# Room for the multipart boundaries and headers around an uploaded file itself.
FORM_OVERHEAD = 16 * 1024


def too_large(name: str, size: int, limit: int, verb: str = "is") -> str:
    """What an upload over ``QA_MAX_UPLOAD_BYTES`` is told (here, and by POST /documents)."""
    return (
        f"{name} {verb} {size:,} bytes; uploads are limited to {limit:,} bytes "
        "(the QA_MAX_UPLOAD_BYTES setting)"
    )


class _Refused(HTTPException):
    """Raised inside a request's receive() to end it with ``status`` and ``detail``; an
    HTTPException, so that FastAPI's body parsing lets it through as it is (any other error
    there becomes a 400)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers={**(headers or {}), "connection": "close"})
        self.status = status


# the routes that answer a question: what QA_MAX_INFLIGHT counts
QUESTIONS = frozenset({"/ask", "/v1/chat/completions"})
# scope key of the callable that spends one question of the client's budget (raising
# AccessDenied once it is spent), left there by the access rules
CHARGE = "qa.charge_question"


def is_question(headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
    """Whether a body would be read as a question: JSON (by its content type, or without
    one, as FastAPI reads it) holding an object."""
    kind = dict(headers).get(b"content-type", b"").split(b";")[0].strip().lower()
    if kind and not (kind == b"application/json" or kind.endswith(b"+json")):
        return False
    try:
        return isinstance(json.loads(body), dict)
    except (ValueError, UnicodeDecodeError):
        return False


class Admission:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.inflight = 0

    def body_limit(self, scope: Scope) -> tuple[int, Callable[[int, bool], str]]:
        """The most bytes the request's body may have, and the message when it has more."""
        if scope["method"] == "POST" and scope["path"].rstrip("/") == "/documents":
            limit = self.settings.max_upload_bytes

            def upload(size: int, whole: bool) -> str:
                return too_large("the upload", size, limit, "is" if whole else "is at least")

            return limit + FORM_OVERHEAD, upload
        limit = self.settings.max_body_bytes

        def body(size: int, whole: bool) -> str:
            return (
                f"the request body {'is' if whole else 'is at least'} {size:,} bytes; at most "
                f"{limit:,} are accepted (the QA_MAX_BODY_BYTES setting)"
            )

        return limit, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, message = self.body_limit(scope)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        path = scope["path"]
        if declared.isdigit() and int(declared) > limit:
            await _reply(send, path, 413, message(int(declared), True))
            return
        asking = scope["method"] == "POST" and path.rstrip("/") in QUESTIONS
        place = _Place(self, scope) if asking else None
        try:
            await self._guarded(scope, receive, send, limit, message, place)
        finally:
            if place is not None:
                place.release()

    async def _guarded(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        limit: int,
        too_large_message: Callable[[int, bool], str],
        place: _Place | None,
    ) -> None:
        received = 0
        body_done = False
        deadline = time.monotonic() + self.settings.body_seconds
        started = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # only a disconnect is still to come: wait for it as long as needed
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), deadline - time.monotonic())
            except TimeoutError:
                raise _Refused(
                    408,
                    f"the request body did not arrive within {self.settings.body_seconds:g} s "
                    "(the QA_BODY_SECONDS setting)",
                ) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _Refused(413, too_large_message(received, False))
                body_done = not message.get("more_body", False)
                if place is not None:
                    place.received(message.get("body", b""), body_done)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except _Refused as exc:
            if started:
                raise
            await _reply(send, scope["path"], exc.status, exc.detail)
        except Exception as exc:
            # a route that swallowed our refusal (e.g. a form parser) re-raises it wrapped
            refused = _cause(exc)
            if refused is None or started:
                raise
            await _reply(send, scope["path"], refused.status, refused.detail)


class _Place:
    """A question's place among those answered at once, taken when its body is whole."""

    def __init__(self, admission: Admission, scope: Scope) -> None:
        self.admission, self.scope = admission, scope
        self.parts: list[bytes] = []
        self.held = False

    def received(self, part: bytes, whole: bool) -> None:
        self.parts.append(part)
        if not whole:
            return
        body, self.parts = b"".join(self.parts), []
        if not is_question(self.scope["headers"], body):
            return  # FastAPI refuses it; nothing is spent on it
        charge = self.scope.get(CHARGE)
        if charge is not None:
            try:
                charge()
            except AccessDenied as exc:
                raise _Refused(exc.status, str(exc), dict(exc.headers)) from None
        admission = self.admission
        if admission.inflight >= admission.settings.max_inflight:
            raise _Refused(
                503,
                f"the server is answering {admission.inflight} questions, as many as it takes "
                "at once (the QA_MAX_INFLIGHT setting): try again in a moment",
                {"retry-after": "1"},
            )
        admission.inflight += 1
        self.held = True

    def release(self) -> None:
        if self.held:
            self.admission.inflight -= 1
            self.held = False


def _cause(exc: BaseException) -> _Refused | None:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, _Refused):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


async def _reply(
    send: Send, path: str, status: int, detail: str, headers: dict | None = None
) -> None:
    """``{"detail"}``, or OpenAI's error shape on /v1 (its clients read only that)."""
    if path.startswith("/v1/"):
        kind = TYPES_BY_STATUS.get(
            status, "server_error" if status >= 500 else "invalid_request_error"
        )
        error = {"message": detail, "type": kind, "param": None, "code": None}
        body = json.dumps({"error": error}).encode()
    else:
        body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    # the body is not read (or not all of it): the connection cannot carry another request
    raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each problem and where it is, without the input (FastAPI's default
    echoes it: all of a huge body, or a string JSON cannot encode)."""
    errors = [
        {
            "loc": [p if isinstance(p, int) else _printable(str(p)) for p in e.get("loc", ())],
            "msg": _printable(str(e.get("msg", ""))),
            "type": e.get("type", ""),
        }
        for e in exc.errors()[:20]
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def _printable(text: str) -> str:
    """Short, and encodable as UTF-8 (a lone surrogate in a key would fail the response)."""
    return text[:MAX_MESSAGE].encode("utf-8", "replace").decode("utf-8")


async def refused(request: Request, exc: _Refused) -> Response:
    """A refusal raised while a route read its body (FastAPI lets it through as it is)."""
    if request.url.path.startswith("/v1/"):
        kind = TYPES_BY_STATUS.get(
            exc.status, "server_error" if exc.status >= 500 else "invalid_request_error"
        )
        error = {"message": exc.detail, "type": kind, "param": None, "code": None}
        return JSONResponse({"error": error}, status_code=exc.status, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)


def install_admission(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(Admission, settings=settings)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(_Refused, refused)
