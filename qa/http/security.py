"""Who may do what over HTTP, checked before any route runs (pure ASGI middleware):

- the ``Host`` header must name this server (loopback names, ``QA_HOST``,
  ``QA_ALLOWED_HOSTS``): a DNS-rebound name is refused, so a web page cannot reach the
  service under a host name of its own;
- a write (any method but GET/HEAD/OPTIONS, except the questions ``POST /ask`` and
  ``POST /v1/...``) must be a request no other
  site can make a browser send: it carries ``X-Requested-With`` or ``Authorization`` (a
  form or a ``no-cors`` fetch cannot, and a cross-origin fetch that tries is stopped by the
  browser's preflight, which this service never grants), and an ``Origin``, when present,
  must be this server's own or one of ``QA_ALLOWED_ORIGINS``;
- a question (``POST /ask``, ``POST /v1/...``) with an ``Origin`` not of this server is
  refused too: no page of another site can read the answer, so it can only be an attempt
  to spend the user's question budget or the server's time;
- with keys configured (``QA_API_KEYS``) a write needs one, and so do questions and reads
  when ``QA_KEYS_FOR_READS``; 401 without a key, 403 with a wrong one; wrong keys are
  counted per client address, and past ``QA_WRONG_KEY_LIMIT`` a minute refused (429)
  before they are compared;
- questions and writes are rate-limited per key, or per client address without one. A
  write is counted here; a question only once its body is whole and a JSON object
  (qa/http/admission.py calls the charge left in the scope), so that requests refused
  before that (another site's form or ``text/plain`` post, invalid JSON) spend nothing;
- every response carries the headers of qa/http/headers.py.

The name of the key used (or "http" when no keys are configured) is left in the request's
scope for the routes: it is recorded as who added a document."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.errors import AccessDenied, BadHost, CrossOrigin, NoKey, RateLimited, WrongKey
from qa.http.admission import CHARGE
from qa.http.headers import with_security_headers
from qa.http.keys import KeyRing
from qa.http.openai.shape import TYPES_BY_STATUS, openai_error
from qa.http.throttle import Tarpit, Throttle
from qa.settings import Settings

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
NO_KEYS = "http"  # who added a document when no keys are configured
SCOPE_KEY = "qa.principal"
_SAFE = {"GET", "HEAD", "OPTIONS"}
# how long a request refused for its rate waits for the refusal
REFUSAL_SECONDS = 1.0


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The name in a Host header, without the port: "[::1]:8000" -> "[::1]"."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if host.count(":") <= 1 else f"[{host}]"


def same_place(origin: str, host_header: str) -> bool:
    """Whether a browser's Origin names the server of this Host header (a default port may
    be written or left out on either side)."""
    parts = urlsplit(origin)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if default is None:  # "null" (sandboxed frames, file: pages) and other schemes
        return False
    return _name_and_port(parts.netloc, default) == _name_and_port(host_header.strip(), default)


def _name_and_port(netloc: str, default: int) -> tuple[str, int | None]:
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port or default
    except ValueError:
        return "", None
    return (parts.hostname or "").rstrip("."), port


# what the documents hold, what is served and how much: open unless QA_KEYS_FOR_READS
_READS = frozenset({"/documents", "/v1/models", "/metrics"})


def refusal(exc: AccessDenied, path: str) -> JSONResponse:
    """The response to a refused request: ``{"detail"}``, or OpenAI's error shape on /v1."""
    if path.startswith("/v1/"):
        kind = TYPES_BY_STATUS.get(exc.status, "invalid_request_error")
        return openai_error(exc.status, str(exc), kind, headers=exc.headers)
    return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=exc.headers)


def request_kind(method: str, path: str) -> str:
    """ "ask" (a question), "write" (a change), "read" (documents) or "public" (the page,
    its files, /health, the API docs)."""
    if path == "/ask" or path.startswith("/v1/") and method not in _SAFE:
        return "ask"  # the OpenAI-compatible routes change nothing
    if method not in _SAFE:
        return "write"
    if path in _READS or path.startswith("/documents/"):
        return "read"
    return "public"


@dataclass
class Access:
    """The access rules of one app, from its settings."""

    keys: KeyRing
    keys_for_reads: bool
    hosts: frozenset[str]
    any_host: bool
    origins: frozenset[str]
    throttle: Throttle
    refusal_wait: float = REFUSAL_SECONDS  # the QA_REFUSAL_WAIT_SECONDS setting

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        key_setting = settings.api_keys.get_secret_value() if settings.api_keys else None
        hosts = {*LOOPBACK_NAMES, *(host_name(h) for h in settings.allowed_hosts)}
        configured = host_name(settings.host)
        if configured not in ("0.0.0.0", "[::]"):  # listening everywhere names no host
            hosts.add(configured)
        return cls(
            keys=KeyRing(key_setting),
            keys_for_reads=settings.keys_for_reads,
            hosts=frozenset(hosts - {"*"}),
            any_host="*" in settings.allowed_hosts,
            origins=frozenset(o.rstrip("/").lower() for o in settings.allowed_origins),
            throttle=Throttle(
                settings.rate_limit, settings.write_rate_limit, settings.wrong_key_limit
            ),
            refusal_wait=settings.refusal_wait_seconds,
        )

    def admit(self, method: str, path: str, headers: Headers, client: str) -> str | None:
        """Who the request comes from (a key's name, "http" when no keys are configured,
        None for an anonymous reader); raises AccessDenied when it may not go on. A write
        is counted against its budget here; a question is not (``charge``)."""
        host = headers.get("host", "")
        if not self.any_host and host_name(host) not in self.hosts:
            raise BadHost(
                f"host {host!r} is not served here: add it to QA_ALLOWED_HOSTS if this server "
                "is meant to be reached by that name"
            )
        kind = request_kind(method, path)
        if kind == "public":
            return None
        if kind == "write":
            self._same_origin(headers, host)
        elif kind == "ask":
            self._own_origin(headers, host, "ask questions")
        name = self._identify(headers.get("authorization"), client)
        needs_key = kind == "write" or (self.keys_for_reads and kind in ("ask", "read"))
        if self.keys.enabled and needs_key and name is None:
            raise NoKey("this needs an API key: send it as Authorization: Bearer KEY")
        if kind == "write":
            self.throttle.check(kind, who(name, client))
        return name if self.keys.enabled else NO_KEYS

    def charge(self, name: str | None, client: str) -> None:
        """Spend one question of the budget of ``name`` (a key) or ``client`` (an
        address); RateLimited once it is spent."""
        self.throttle.check("ask", who(name, client))

    def _same_origin(self, headers: Headers, host: str) -> None:
        if "x-requested-with" not in headers and "authorization" not in headers:
            raise CrossOrigin(
                "changes need an X-Requested-With header (or Authorization: Bearer KEY); "
                "a form posted from another site cannot send one"
            )
        self._own_origin(headers, host, "change documents")

    def _own_origin(self, headers: Headers, host: str, what: str) -> None:
        origin = headers.get("origin")
        if origin is None:
            return  # not from a browser page, or a same-origin GET-like request
        if not same_place(origin, host) and origin.rstrip("/").lower() not in self.origins:
            raise CrossOrigin(
                f"a page from {origin} may not {what} here: add the origin to "
                "QA_ALLOWED_ORIGINS to allow it"
            )

    def _identify(self, authorization: str | None, client: str) -> str | None:
        if not self.keys.enabled or not authorization:
            return None
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NoKey("send the API key as Authorization: Bearer KEY")
        self.throttle.refuse_guesses(f"address:{client}")
        name = self.keys.identify(key.strip())
        if name is None:
            self.throttle.check("wrong_key", f"address:{client}")
            raise WrongKey("that API key is not valid here")
        return name


def who(name: str | None, client: str) -> str:
    """Whose budget a request spends: its key's, else its address's."""
    return f"key:{name}" if name else f"address:{client}"


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access
        self.tarpit = Tarpit(wait=access.refusal_wait)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        send_with_headers = with_security_headers(send, path)

        client = scope["client"][0] if scope.get("client") else "unknown"
        try:
            name = self.access.admit(scope["method"], path, Headers(scope=scope), client)
        except AccessDenied as exc:
            # a client past its budget, or refused again and again, waits for its refusal
            # (throttle.Tarpit): sending as fast as it is answered then costs little
            wait = self.access.refusal_wait if isinstance(exc, RateLimited) else 0.0
            if not isinstance(exc, NoKey):
                wait = max(wait, self.tarpit.delay(f"address:{client}"))
            if wait:
                await asyncio.sleep(wait)
            await refusal(exc, path)(scope, receive, send_with_headers)
            return
        scope[SCOPE_KEY] = name
        if request_kind(scope["method"], path) == "ask":
            key = name if self.access.keys.enabled else None
            scope[CHARGE] = lambda: self.access.charge(key, client)
        await self.app(scope, receive, send_with_headers)


def principal(request: Request) -> str:
    """Who sent the request, as recorded with the documents it adds."""
    return request.scope.get(SCOPE_KEY) or NO_KEYS


def include_security(app: FastAPI, settings: Settings) -> None:
    access = Access.from_settings(settings)
    app.add_middleware(SecurityMiddleware, access=access)
    document_bearer_keys(app, access.keys_for_reads)
    if not is_loopback(settings.host) and not settings.allowed_hosts:
        log.warning(
            "serving on %s: requests are accepted only with a Host of %s; set "
            "QA_ALLOWED_HOSTS to the names clients use",
            settings.host,
            ", ".join(sorted(access.hosts)),
        )


def document_bearer_keys(app: FastAPI, for_reads: bool) -> None:
    """Declare the Bearer key in the OpenAPI schema, on the changes (and on the reads when
    they need one), so that /docs has an Authorize button: its requests then carry the
    Authorization header a change needs, with or without keys configured."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["apiKey"] = {"type": "http", "scheme": "bearer"}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                kind = request_kind(method.upper(), path)
                if kind == "write" or (for_reads and kind in ("ask", "read")):
                    operation["security"] = [{"apiKey": []}]
        return schema

    app.openapi = openapi


def refuse_open_server(settings: Settings, insecure: bool) -> None:
    """``qa serve`` on an address other machines can reach, without keys, lets anyone
    change the documents: refuse unless told ``--insecure``."""
    if is_loopback(settings.host):
        return
    if settings.api_keys is None or not settings.api_keys.get_secret_value().strip():
        if insecure:
            log.warning(
                "serving on %s without API keys: anyone who reaches it may change the documents",
                settings.host,
            )
            return
        raise AccessDenied(
            f"refusing to serve on {settings.host} without API keys: set QA_API_KEYS "
            "(see `qa keys add`), or pass --insecure to let anyone who can reach it change "
            "the documents"
        )
