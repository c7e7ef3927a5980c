"""Answers as Server-Sent Events. ``delta`` events carry the answer text as it is produced
(from a generative model, its raw reply: not yet grounded), then one ``answer`` event carries
the grounded answer with its citations, the same JSON as a non-streaming /ask. A client
shows the deltas while they arrive and replaces them with the ``answer`` event's text.

Errors before the first event (a bad question, no index, a model server that is down) are
ordinary HTTP errors; a failure after the stream has begun arrives as an ``error`` event."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator

from fastapi.concurrency import run_in_threadpool
from sse_starlette import EventSourceResponse

from qa.errors import QAError
from qa.read.answer import Answer

_END = object()


def _next(events: Iterator[str | Answer]) -> object:
    return next(events, _END)


async def answer_events(
    events: Generator[str | Answer, None, None],
) -> AsyncGenerator[str | Answer, None]:
    """``events`` from ``Engine.stream``, each produced in the threadpool. The first is
    produced now, so that an error before the answer begins raises here (an ordinary HTTP
    error) rather than inside a response already under way."""
    first = await run_in_threadpool(_next, events)

    async def rest() -> AsyncGenerator[str | Answer, None]:
        item = first
        try:
            while item is not _END:
                yield item
                item = await run_in_threadpool(_next, events)
        finally:
            # a client that leaves early must not keep the model busy (or its lock held);
            # if a piece is still being produced in a worker thread, the generator is
            # closed when it is collected instead
            with contextlib.suppress(ValueError):
                events.close()

    return rest()


async def stream_response(
    events: Generator[str | Answer, None, None], render: Callable[[Answer], str]
) -> EventSourceResponse:
    """``events`` from ``Engine.stream``; ``render`` turns the final answer into JSON."""
    items = await answer_events(events)

    async def sse() -> AsyncIterator[dict]:
        async with contextlib.aclosing(items):
            try:
                async for item in items:
                    if isinstance(item, Answer):
                        yield {"event": "answer", "data": render(item)}
                    else:
                        data = json.dumps({"text": item}, ensure_ascii=False)
                        yield {"event": "delta", "data": data}
            except QAError as exc:
                data = json.dumps({"detail": str(exc)}, ensure_ascii=False)
                yield {"event": "error", "data": data}

    return EventSourceResponse(sse())
