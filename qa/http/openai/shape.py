"""OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`: the OpenAI SDKs
read only that. The middleware answer in it on /v1 before any route runs (qa/http/admission.py,
qa/http/security.py), and so do the OpenAI-compatible routes (qa/http/openai/errors.py)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

# OpenAI's error types for the statuses the access rules answer with (qa/http/security.py)
TYPES_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
}


def openai_error(
    status: int, message: str, type_: str, param=None, code=None, headers=None
) -> JSONResponse:
    body = {"message": message, "type": type_, "param": param, "code": code}
    return JSONResponse({"error": body}, status_code=status, headers=headers)
