"""The OpenAI chat-completions wire format that ``qa.http.openai.routes`` speaks: requests as
front ends and SDKs send them, replies as they read them, and qa's own extension fields.

A request may carry any of OpenAI's options; those qa cannot honour in spirit (several
choices, JSON output, a forced tool call, log-probabilities) are refused with a 400, the
rest (temperature, max_tokens, stop, seed, tools the model may leave uncalled...) are
accepted and ignored, since the answer is chosen from the documents, not sampled."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from qa.http.citations import CitationOut

MODEL = "qa"

# Content parts a message may hold that carry no text qa could read.
_TEXT_PARTS = {"text", "input_text", "refusal"}


def unsupported(message: str) -> PydanticCustomError:
    # the error type becomes the OpenAI error's `code`
    return PydanticCustomError("unsupported_value", message)


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None
    refusal: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    @field_validator("content")
    @classmethod
    def text_only(cls, v: str | list[ContentPart] | None) -> str | list[ContentPart] | None:
        for part in v if isinstance(v, list) else []:
            if part.type not in _TEXT_PARTS:
                raise unsupported(f"qa reads text only; a {part.type!r} content part is not")
        return v

    @property
    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        return "\n".join(p.text or p.refusal or "" for p in self.content)


class ChatRequest(BaseModel):
    """`POST /v1/chat/completions`. Options not listed are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description=f"`{MODEL}` (see GET /v1/models)")
    messages: list[Message] = Field(
        min_length=1,
        description="the conversation, oldest first; the last user message is the question",
    )
    stream: bool = Field(False, description="answer as chat.completion.chunk events")
    n: int = Field(1, description="must be 1: there is one answer")
    top_k: int | None = Field(None, ge=1, le=50, description="qa extension: passages to read")
    documents: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="qa extension: answer only from these documents (ids), and `tags`",
    )
    tags: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="qa extension: answer only from the documents carrying one of these tags",
    )
    response_format: dict[str, Any] | None = Field(None, description="only {'type': 'text'}")
    tool_choice: str | dict[str, Any] | None = Field(
        None, description="'none' or 'auto' (tools are never called)"
    )
    logprobs: bool | None = Field(None, description="must be false or absent")

    @field_validator("n")
    @classmethod
    def one_choice(cls, v: int) -> int:
        if v != 1:
            raise unsupported("n must be 1: qa gives one answer")
        return v

    @field_validator("response_format")
    @classmethod
    def text_format(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None and v.get("type", "text") != "text":
            raise unsupported(
                f"response_format {v.get('type')!r} is not supported: qa answers in text"
            )
        return v

    @field_validator("tool_choice")
    @classmethod
    def no_forced_tool(cls, v: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if v is not None and v not in ("none", "auto"):
            raise unsupported("qa calls no tools: tool_choice must be 'none' or 'auto'")
        return v

    @field_validator("logprobs")
    @classmethod
    def no_logprobs(cls, v: bool | None) -> bool | None:
        if v:
            raise unsupported("logprobs are not available: qa's answers are not sampled")
        return v


class CitationRef(CitationOut):
    """A cited sentence: ``document[start:end] == text`` (GET /documents/{doc_id}); /ask's
    fields, in the same order, and its document's link."""

    n: int = Field(description="the [n] marker in the content")
    title: str = Field(description="the document's title")
    url: str = Field(description="the document's text and sentence offsets: GET /documents/{id}")


class Extensions(BaseModel):
    """qa's fields beside OpenAI's, on a reply and on the last chunk of a stream
    (top-level like Perplexity's `citations`; each citation is an object here)."""

    answer: str | None = Field(description="the short answer; null when abstaining")
    abstained: bool = Field(description="true: the documents do not answer")
    citations: list[CitationRef]
    evidence_score: float = Field(description="probability that the documents answer")
    grounded: bool
    resolved_question: str = Field(description="what was searched for")


class URLCitation(BaseModel):
    start_index: int = Field(description="where the [n] marker starts in the content")
    end_index: int
    url: str
    title: str


class Annotation(BaseModel):
    """OpenAI's own citation: one per [n] marker in the content, linking the document."""

    type: Literal["url_citation"] = "url_citation"
    url_citation: URLCitation


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: str | None = Field(None, description="the refusal text when abstaining")
    annotations: list[Annotation] = Field(default_factory=list)


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class _Completion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: None = Field(None, description="not counted: qa has no tokens to count")


class ChatCompletion(Extensions, _Completion):
    """A reply: OpenAI's fields, then qa's."""


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    refusal: str | None = None
    annotations: list[Annotation] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]


class LastChunk(Extensions, ChatCompletionChunk):
    """The last chunk of a stream: an empty delta, `finish_reason`, and qa's fields."""


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "qa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
