"""HTTP API. ``create_app(settings)`` builds the app; the model and the index are loaded
once, in the lifespan, and kept on ``app.state``."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from index.cpu import cpu
from index.embed import Embedder
from qa.engine import Engine, lone_surrogate
from qa.http.admission import install_admission
from qa.http.citations import CitationOut
from qa.http.documents import get_engine, include_documents
from qa.http.files import include_files
from qa.http.metrics import include_metrics
from qa.http.openai.routes import include_openai
from qa.http.page import include_page
from qa.http.paths import shown, without_folders
from qa.http.security import include_security
from qa.http.statuses import include_statuses
from qa.http.stream import stream_response
from qa.read.answer import Answer
from qa.read.followup import HISTORY_LIMIT, Turn
from qa.read.followup import resolve as resolve_followup
from qa.settings import Settings

MAX_SCOPE = 1000  # documents or tags a question may name


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="the question, at most QA_MAX_QUESTION_CHARS characters")
    top_k: int | None = Field(None, ge=1, le=50, description="passages to read")
    history: list[Turn] = Field(
        default_factory=list, max_length=HISTORY_LIMIT, description="earlier turns, oldest first"
    )
    stream: bool = Field(
        False, description="answer as Server-Sent Events: `delta` events, then one `answer`"
    )
    documents: list[str] = Field(
        default_factory=list,
        max_length=MAX_SCOPE,
        description="answer only from these documents (ids), and those tagged `tags`",
    )
    tags: list[str] = Field(
        default_factory=list,
        max_length=MAX_SCOPE,
        description="answer only from the documents carrying one of these tags",
    )

    @field_validator("question")
    @classmethod
    def not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("question is empty")
        return v

    @model_validator(mode="after")
    def valid_unicode(self) -> AskRequest:
        # JSON may carry lone surrogates ("\ud800"), which no UTF-8 text can hold
        texts = [("question", self.question)]
        texts += [(f"history[{i}]", t.question) for i, t in enumerate(self.history)]
        texts += [(f"history[{i}]", t.answer or "") for i, t in enumerate(self.history)]
        texts += [(f"documents[{i}]", d) for i, d in enumerate(self.documents)]
        texts += [(f"tags[{i}]", t) for i, t in enumerate(self.tags)]
        for where, text in texts:
            if (at := lone_surrogate(text)) is not None:
                raise ValueError(
                    f"{where} is not valid Unicode: a lone surrogate at character {at}"
                )
        return self


class PassageOut(BaseModel):
    doc_id: str
    start: int
    end: int
    text: str
    score: float


class AskResponse(BaseModel):
    answer: str | None
    abstained: bool
    text: str
    citations: list[CitationOut]
    passages: list[PassageOut]
    timings_ms: dict[str, float]
    evidence_score: float = Field(
        description="the probability that the documents answer (abstains below QA_ABSTAIN_BELOW)"
    )
    resolved_question: str | None = Field(None, description="what was searched for")
    grounded: bool = Field(
        True, description="false when the model's reply could not be grounded in the sources"
    )
    fallback: str | None = Field(
        None, description="the answerer whose answer is shown instead, when not grounded"
    )


EngineDep = Annotated[Engine, Depends(get_engine)]


def create_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.engine = Engine(settings, embedder)
        yield

    app = FastAPI(title="qa", summary="Cited answers from your documents", lifespan=lifespan)
    include_statuses(app)
    include_files(app)  # before the documents' routes, whose {doc_id:path} would take it
    include_documents(app)
    include_page(app)
    include_openai(app)
    # middleware added later runs first: the access rules before any body is read, and the
    # metrics outermost, so that refused requests (401, 403, 413, 429, 503) are counted too
    install_admission(app, settings)
    include_security(app, settings)
    include_metrics(app)

    @app.post(
        "/ask",
        response_model=AskResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def ask(body: AskRequest, engine: EngineDep, request: Request):
        if await request.is_disconnected():  # the client left while its request waited
            return Response(status_code=499)
        question = resolve_followup(body.question, body.history)
        if body.stream:

            def render(result: Answer) -> str:
                out = {**result.to_dict(), "resolved_question": question}
                return AskResponse.model_validate(out).model_dump_json()

            events = engine.stream(question, body.top_k, body.documents, body.tags)
            return await stream_response(events, render)
        result = await run_in_threadpool(
            engine.ask, question, body.top_k, body.documents, body.tags
        )
        return {**result.to_dict(), "resolved_question": question}

    # what runs the encoders on this CPU, and why (QA_ENCODER_RUNTIME=auto chooses)
    runtime, why = settings.runtime_choice
    encoders = {"runtime": runtime, "setting": settings.encoder_runtime, "why": why, "cpu": cpu()}
    # and what embeds documents: `qa index` and eval (QA_INDEX_RUNTIME=auto chooses), uploads
    documents_runtime, documents_why = settings.indexing_runtime
    documents = {
        "runtime": documents_runtime,
        "setting": settings.index_runtime,
        "why": documents_why,
    }

    @app.get("/health")
    async def health(engine: EngineDep) -> dict:
        counts = engine.counts()
        return {
            "ready": engine.ready,
            "model": engine.embedder.name,
            "answerer": engine.backend.name,
            "reranker": shown(engine.backend.ranker.model_dir),
            "refuses_below": engine.backend.abstainer.below,
            # whether refusals weigh the answerability verifier (qa/read/verify.py)
            "verifier": engine.backend.verifier is not None,
            # what runs it: the reader's runtime (int8 with its own recipe, else fp32)
            "verifier_runtime": getattr(engine.backend.verifier, "runtime", None),
            "encoders": encoders,
            "documents_embedded_by": {**documents, "uploads": engine.uploads_runtime},
            "store": settings.store,
            "index_dir": shown(settings.index_dir),
            "documents": counts.documents,
            "sentences": counts.sentences,
            "passages": counts.passages,
            "error": without_folders(engine.load_error, settings.index_dir),
        }

    return app
