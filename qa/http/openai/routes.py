"""OpenAI-compatible routes: `POST /v1/chat/completions` and `GET /v1/models`, so chat
front ends, agents and SDKs that speak OpenAI's API can ask qa.

The last user message is the question, the earlier user/assistant turns its history (as
`history` on /ask), system and developer messages are ignored (they must not steer which
evidence is chosen). The reply's content is the answer text with its [n] markers and a
short sources list; the citations with their exact offsets, `abstained` and the short
`answer` travel beside it (``qa.http.openai.schema.Extensions``). The answer comes from the
same Engine and the same streaming as /ask. Errors on these routes are in OpenAI's shape
(``qa.http.openai.errors``). See docs/openai.md."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from index.errors import IndexError_
from qa.engine import Engine
from qa.errors import BadQuestion, QAError, TooLong, UnknownModel
from qa.http.openai.errors import OpenAIRoute, error_body
from qa.http.openai.schema import (
    MODEL,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatRequest,
    Choice,
    ChunkChoice,
    Delta,
    ErrorResponse,
    LastChunk,
    Message,
    ModelCard,
    ModelList,
)
from qa.http.openai.shape import openai_error
from qa.http.stream import answer_events
from qa.read.answer import Answer
from qa.read.followup import HISTORY_LIMIT, Turn
from qa.read.followup import resolve as resolve_followup
from qa.settings import Settings

SOURCES = "\n\nSources:\n"
_MARKER = re.compile(r"\[(\d+)\]")


def conversation(messages: list[Message], settings: Settings) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the turns before it, oldest first."""
    if len(messages) > settings.max_messages:
        raise TooLong(
            f"messages: {len(messages)} messages; at most {settings.max_messages} are read "
            "(the QA_MAX_MESSAGES setting)"
        )
    spoken = [m for m in messages if m.role in ("user", "assistant")]
    if not spoken or spoken[-1].role != "user":
        raise BadQuestion("messages: the last user or assistant message must be the user's")
    question = spoken[-1]
    for i, m in enumerate(messages):
        # the question's own limit is QA_MAX_QUESTION_CHARS, checked by the engine
        if m is not question and len(m.text) > settings.max_message_chars:
            raise TooLong(
                f"messages.{i}: {len(m.text)} characters; at most "
                f"{settings.max_message_chars} are read (the QA_MAX_MESSAGE_CHARS setting)"
            )
    turns: list[Turn] = []
    for m in spoken[:-1]:
        if m.role == "user":
            turns.append(Turn(m.text))
        elif turns and turns[-1].answer is None:
            # the reply as qa gave it: its sources list is no part of the answer
            turns[-1] = Turn(turns[-1].question, m.text.split(SOURCES)[0].strip() or None)
    return question.text, turns[-HISTORY_LIMIT:]


def render(result: Answer, question: str, request: Request) -> tuple[dict, dict]:
    """A reply's message (content, refusal, annotations) and qa's fields beside it."""
    base = str(request.base_url)
    citations = [
        {
            "n": c.n,
            "doc_id": c.doc_id,
            "title": c.title,
            "start": c.start,
            "end": c.end,
            "text": c.text,
            "score": c.score,
            "page": c.page,
            "page_label": c.page_label,
            "section": c.section,
            "url": f"{base}documents/{quote(c.doc_id, safe='/')}",
        }
        for c in result.citations
    ]
    text = result.text
    if citations:
        text += SOURCES + "\n".join(
            f"- [{c['n']}] {c['doc_id']}, "
            + (f"page {c['page_label'] or c['page']}, " if c["page"] else "")
            + f"characters {c['start']}-{c['end']}"
            for c in citations
        )
    # OpenAI's url_citation annotations, one per [n] marker of the answer (not of the list)
    annotations = [
        {
            "url_citation": {
                "start_index": m.start(),
                "end_index": m.end(),
                "url": citations[int(m[1]) - 1]["url"],
                "title": citations[int(m[1]) - 1]["title"],
            }
        }
        for m in _MARKER.finditer(result.text)
        if 1 <= int(m[1]) <= len(citations)
    ]
    message = {
        "content": text,
        "refusal": result.text if result.abstained else None,
        "annotations": annotations,
    }
    extensions = {
        "answer": result.answer,
        "abstained": result.abstained,
        "citations": citations,
        "evidence_score": result.evidence_score,
        "grounded": result.grounded,
        "resolved_question": question,
    }
    return message, extensions


router = APIRouter(prefix="/v1", route_class=OpenAIRoute, tags=["OpenAI-compatible"])


@router.get("/models", response_model=ModelList)
async def models(request: Request) -> dict:
    """The one model: qa over the documents indexed."""
    return {"data": [{"id": MODEL, "created": request.app.state.openai_created}]}


@router.get("/models/{model_id}", response_model=ModelCard)
async def model(model_id: str, request: Request) -> dict:
    known(model_id)
    return {"id": MODEL, "created": request.app.state.openai_created}


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}},
        400: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        503: {"model": ErrorResponse},
    },
)
async def chat_completions(body: ChatRequest, request: Request):
    """Answer the last user message, cited; `stream: true` for chat.completion.chunk events."""
    engine: Engine = request.app.state.engine
    known(body.model)
    question, history = conversation(body.messages, engine.settings)
    question = resolve_followup(question, history)
    reply_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        items = await answer_events(engine.stream(question, body.top_k, body.documents, body.tags))
        chunks = stream_chunks(items, question, request, reply_id, created)
        # "\n" line ends, as OpenAI sends them: some clients compare `data: [DONE]` exactly
        return EventSourceResponse(chunks, sep="\n")
    result = await run_in_threadpool(engine.ask, question, body.top_k, body.documents, body.tags)
    message, extensions = render(result, question, request)
    return ChatCompletion(
        id=reply_id,
        created=created,
        model=MODEL,
        choices=[Choice(message=AssistantMessage(**message))],
        **extensions,
    )


async def stream_chunks(
    items: AsyncIterator[str | Answer], question: str, request: Request, reply_id: str, created: int
) -> AsyncIterator[dict]:
    """The role, then the grounded content, then the last chunk with qa's fields, then
    [DONE]. A generative model's raw reply is not passed on: chunks cannot be taken back,
    and only grounded text is shown."""

    def chunk(delta: Delta) -> dict:
        out = ChatCompletionChunk(
            id=reply_id, created=created, model=MODEL, choices=[ChunkChoice(delta=delta)]
        )
        return {"data": out.model_dump_json()}

    async with contextlib.aclosing(items):
        yield chunk(Delta(role="assistant", content=""))
        result = None
        try:
            async for item in items:
                if isinstance(item, Answer):
                    result = item
        except (QAError, IndexError_) as exc:
            _, body = error_body(exc)
            yield {"data": ErrorResponse.model_validate({"error": body}).model_dump_json()}
            return
    if result is not None:
        message, extensions = render(result, question, request)
        yield chunk(Delta(**message))
        last = LastChunk(
            id=reply_id,
            created=created,
            model=MODEL,
            choices=[ChunkChoice(delta=Delta(), finish_reason="stop")],
            **extensions,
        )
        yield {"data": last.model_dump_json()}
    yield {"data": "[DONE]"}


def known(model_id: str) -> None:
    if model_id != MODEL:
        raise UnknownModel(
            f"The model {model_id!r} does not exist: this server answers as {MODEL!r} "
            "(GET /v1/models)"
        )


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown(path: str, request: Request) -> JSONResponse:
    return openai_error(
        404,
        f"Invalid URL ({request.method} /v1/{path})",
        "invalid_request_error",
        None,
        "unknown_url",
    )


def include_openai(app: FastAPI) -> None:
    """Add the /v1 routes to ``app``."""
    app.state.openai_created = int(time.time())
    app.include_router(router)
