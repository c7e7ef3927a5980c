"""A cited sentence as the HTTP API shows it: on /ask (``CitationOut``), and on the /v1
routes with a link to its document (qa/http/openai/schema.py ``CitationRef``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CitationOut(BaseModel):
    n: int
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = Field(None, description="its PDF page, 1-based (null: not a PDF)")
    page_label: str | None = Field(None, description="that page's printed number, if labelled")
    section: str | None = Field(None, description="the heading it falls under, if any")
