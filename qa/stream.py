"""Answers as Server-Sent Events. ``delta`` events carry the answer text as it is produced
(from a generative model, its raw reply: not yet grounded), then one ``answer`` event carries
the grounded answer with its citations, the same JSON as a non-streaming /ask. A client
shows the deltas while they arrive and replaces them with the ``answer`` event's text.

Errors before the first event (a bad question, no index, a model server that is down) are
ordinary HTTP errors; a failure after the stream has begun arrives as an ``error`` event."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Generator, Iterator

from fastapi.concurrency import run_in_threadpool
from sse_starlette import EventSourceResponse

from qa.answer import Answer
from qa.errors import QAError

_END = object()


def _next(events: Iterator[str | Answer]) -> object:
    return next(events, _END)


async def stream_response(
    events: Generator[str | Answer, None, None], render: Callable[[Answer], str]
) -> EventSourceResponse:
    """``events`` from ``Engine.stream``; ``render`` turns the final answer into JSON."""
    first = await run_in_threadpool(_next, events)

    async def sse() -> AsyncIterator[dict]:
        item = first
        try:
            while item is not _END:
                if isinstance(item, Answer):
                    yield {"event": "answer", "data": render(item)}
                else:
                    yield {"event": "delta", "data": json.dumps({"text": item}, ensure_ascii=False)}
                item = await run_in_threadpool(_next, events)
        except QAError as exc:
            yield {"event": "error", "data": json.dumps({"detail": str(exc)}, ensure_ascii=False)}
        finally:
            # a client that leaves early must not keep the model busy (or its lock held);
            # if a piece is still being produced in a worker thread, the generator is
            # closed when it is collected instead
            with contextlib.suppress(ValueError):
                events.close()

    return EventSourceResponse(sse())
