"""Errors on the OpenAI-compatible routes, in OpenAI's shape:
`{"error": {"message", "type", "param", "code"}}`, so that the SDKs raise their usual
exceptions (BadRequestError, NotFoundError, ...) with the message and code filled in. The
other routes keep FastAPI's `{"detail": ...}` (qa/http/api.py)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from index.errors import IndexError_
from qa.errors import BadQuestion, QAError, TooLong, UnknownModel, UnknownScope
from qa.http.openai.shape import openai_error
from qa.read.answerers.errors import UpstreamError

# exception -> (status, OpenAI error type, code); the first match wins
_ERRORS: list[tuple[type[Exception], int, str, str | None]] = [
    (UnknownModel, 404, "invalid_request_error", "model_not_found"),
    (TooLong, 400, "invalid_request_error", "context_length_exceeded"),
    # as on /ask: the request is well formed, the index holds no such document or tag
    (UnknownScope, 422, "invalid_request_error", "unknown_scope"),
    (BadQuestion, 400, "invalid_request_error", "invalid_question"),
    (IndexError_, 503, "server_error", "no_index"),
    (UpstreamError, 502, "server_error", "upstream_error"),
    (QAError, 400, "invalid_request_error", None),
]


def error_body(exc: Exception) -> tuple[int, dict]:
    for kind, status, type_, code in _ERRORS:
        if isinstance(exc, kind):
            param = "model" if isinstance(exc, UnknownModel) else None
            return status, {"message": str(exc), "type": type_, "param": param, "code": code}
    raise exc


def invalid_request(exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors() or [{"loc": (), "msg": "invalid request", "type": "invalid_value"}]
    if errors[0]["type"] == "json_invalid":
        detail = errors[0].get("ctx", {}).get("error", "")
        message = f"the body is not valid JSON ({detail} at character {errors[0]['loc'][-1]})"
        return openai_error(400, message, "invalid_request_error", None, "json_invalid")
    if errors[0]["type"] == "model_attributes_type" and len(errors[0]["loc"]) <= 1:
        message = "the body must be a JSON object (sent as content-type: application/json)"
        return openai_error(400, message, "invalid_request_error", None, "invalid_body")
    messages = []
    for error in errors:
        where = ".".join(str(part) for part in error["loc"][1:])
        messages.append(f"{where}: {error['msg']}" if where else error["msg"])
    param = ".".join(str(part) for part in errors[0]["loc"][1:]) or None
    return openai_error(400, "; ".join(messages), "invalid_request_error", param, errors[0]["type"])


class OpenAIRoute(APIRoute):
    """A route whose errors, validation included, answer in OpenAI's error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return invalid_request(exc)
            except (QAError, IndexError_) as exc:
                status, body = error_body(exc)
                return JSONResponse({"error": body}, status_code=status)

        return route
