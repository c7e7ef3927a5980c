"""Any OpenAI-compatible chat server (llama.cpp, Ollama, vLLM, a hosted API) through
``POST {base_url}/v1/chat/completions``, with timeouts and a bounded retry."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import httpx

from qa.read.answerers.chat import Message
from qa.read.answerers.errors import UpstreamError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_DELAY = 30.0


class RemoteModel:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        client: httpx.Client | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        # "/v1" is part of the path below; a base URL that already ends with it still works
        self.url = base_url.rstrip("/").removesuffix("/v1") + "/v1/chat/completions"
        self.model = model
        self.name = f"{model} at {self.url}"
        self._client = client or httpx.Client()
        self._timeout = httpx.Timeout(timeout)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.retries = retries
        self.backoff = backoff

    def complete(self, messages: list[Message], max_tokens: int) -> str:
        response = self._send(self._payload(messages, max_tokens, stream=False), stream=False)
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise UpstreamError(
                f"{self.url} sent a malformed reply: {_excerpt(response.text)}"
            ) from exc
        if not isinstance(content, str):
            raise UpstreamError(f"{self.url} sent a reply without text: {_excerpt(response.text)}")
        return content

    def stream(self, messages: list[Message], max_tokens: int) -> Iterator[str]:
        response = self._send(self._payload(messages, max_tokens, stream=True), stream=True)
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    break
                try:
                    piece = json.loads(data)["choices"][0].get("delta", {}).get("content")
                except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                    raise UpstreamError(
                        f"{self.url} sent a malformed event: {_excerpt(data)}"
                    ) from exc
                if piece:
                    yield piece
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                f"{self.url} stopped answering for {self._timeout.read:g} s"
            ) from exc
        except httpx.TransportError as exc:
            raise UpstreamError(f"{self.url} broke off its reply: {exc}") from exc
        finally:
            response.close()

    def _payload(self, messages: list[Message], max_tokens: int, *, stream: bool) -> dict:
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stream": stream,
        }

    def _send(self, payload: dict, *, stream: bool) -> httpx.Response:
        """The first successful response, retrying 429, 5xx and connection failures a
        bounded number of times with exponential backoff (or the server's Retry-After)."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            request = self._client.build_request(
                "POST", self.url, json=payload, headers=self._headers, timeout=self._timeout
            )
            try:
                response = self._client.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                raise UpstreamError(
                    f"{self.url} did not answer within {self._timeout.read:g} s"
                ) from exc
            except httpx.TransportError as exc:
                if last:
                    raise UpstreamError(f"cannot reach {self.url}: {exc}") from exc
                self._wait(attempt, None)
                continue
            if response.status_code < 400:
                return response
            response.read()
            response.close()
            if response.status_code in RETRY_STATUSES and not last:
                log.info("%s answered %d; retrying", self.url, response.status_code)
                self._wait(attempt, response)
                continue
            raise UpstreamError(
                f"{self.url} answered {response.status_code}: {_upstream_message(response)}"
            )
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        delay = self.backoff * 2**attempt
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after and retry_after.strip().isdigit():
            delay = float(retry_after)
        time.sleep(min(delay, MAX_DELAY))


def _upstream_message(response: httpx.Response) -> str:
    """The server's own error message: OpenAI's ``{"error": {"message"}}``, FastAPI's
    ``{"detail"}``, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return _excerpt(response.text) or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if body.get("detail"):
            return str(body["detail"])
    return _excerpt(response.text)


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
