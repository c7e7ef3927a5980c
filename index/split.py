"""Sentence splitting with exact character offsets.

pysbd finds the boundaries; blank lines are hard boundaries (headings, list items and page
junk such as "Advertisement" never merge into the sentence next to them). Offsets index the
decoded text, so ``text[start:end]`` is the sentence, with surrounding whitespace trimmed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _blocks(text: str) -> list[Span]:
    blocks, start = [], 0
    for gap in _BLANK_LINE.finditer(text):
        blocks.append(Span(start, gap.start()))
        start = gap.end()
    blocks.append(Span(start, len(text)))
    return [b for b in blocks if b.end > b.start]


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and (text[start].isspace() or text[start] == "\ufeff"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def split_sentences(text: str) -> list[Span]:
    spans: list[Span] = []
    for block in _blocks(text):
        chunk = text[block.start : block.end]
        pieces = _segmenter().segment(chunk)
        cursor = 0
        for piece in pieces:
            # pysbd's spans are usually exact; searching from the cursor keeps them exact
            # even when it normalises a piece.
            at = chunk.find(piece.sent, cursor)
            if at < 0:
                at, stop = piece.start, piece.end
            else:
                stop = at + len(piece.sent)
            span = _trim(text, block.start + at, block.start + stop)
            cursor = stop
            if span:
                spans.append(span)
        if not pieces:
            span = _trim(text, block.start, block.end)
            if span:
                spans.append(span)
    return spans
