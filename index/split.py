"""Sentence splitting with exact character offsets.

pysbd finds the boundaries; blank lines are hard boundaries (headings, list items and page
junk such as "Advertisement" never merge into the sentence next to them). Offsets index the
decoded text, so ``text[start:end]`` is the sentence, with surrounding whitespace trimmed.

pysbd's time grows with the square of the sentences in what it is given, so it is never given
more than ``MAX_PIECE_CHARS`` characters or ``MAX_PIECE_ENDS`` likely sentence ends at once: a
longer block is cut first at a likely sentence end, else at a space, else anywhere. Real
paragraphs are far below both limits (the longest of the 856 SQuAD documents is 2,167
characters), so they are split exactly as before; a hostile block costs linear time.

pysbd's own character spans are not asked for: it finds each sentence again with a regular
expression made for it (one compile per sentence, which also pushes its abbreviation
patterns out of ``re``'s cache), where finding the sentence from the end of the last one is
the same and costs nothing: splitting dev13 took 0.64x the time."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import pysbd

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
# a likely sentence end: closing punctuation (and quotes or brackets), then whitespace
_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")
_SPACE = re.compile(r"\s+")
MAX_PIECE_CHARS = 4000
MAX_PIECE_ENDS = 64


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def _sentences(chunk: str) -> list[str]:
    """pysbd's sentences of ``chunk`` as it finds them, before its char-span step (which
    only locates them again; ``Segmenter.segment`` minus that)."""
    return _segmenter().processor(chunk).process() if chunk else []


def _blocks(text: str) -> list[Span]:
    blocks, start = [], 0
    for gap in _BLANK_LINE.finditer(text):
        blocks.append(Span(start, gap.start()))
        start = gap.end()
    blocks.append(Span(start, len(text)))
    return [b for b in blocks if b.end > b.start]


def _soft_cuts(text: str, start: int, end: int) -> Iterator[int]:
    """Cut positions that leave no piece of [start, end) longer than MAX_PIECE_CHARS,
    each after the last whitespace in the second half of its window when there is one."""
    while end - start > MAX_PIECE_CHARS:
        stop = start + MAX_PIECE_CHARS
        cut = stop
        for m in _SPACE.finditer(text, start + MAX_PIECE_CHARS // 2, stop):
            cut = m.end()
        yield cut
        start = cut


def _pieces(text: str, block: Span) -> list[Span]:
    """``block`` cut into pieces pysbd splits in bounded time; contiguous, so offsets
    stay exact. Linear in the block's length."""
    cuts: list[int] = []
    start, last, ends = block.start, None, 0
    for m in _END.finditer(text, block.start, block.end):
        if m.end() - start > MAX_PIECE_CHARS:
            if last is not None:
                cuts.append(last)
                start = last
            cuts += _soft_cuts(text, start, m.end())
            start, ends = (cuts[-1] if cuts else start), 0
        ends, last = ends + 1, m.end()
        if ends >= MAX_PIECE_ENDS:
            cuts.append(last)
            start, last, ends = last, None, 0
    if block.end - start > MAX_PIECE_CHARS:
        if last is not None and last > start:
            cuts.append(last)
            start = last
        cuts += _soft_cuts(text, start, block.end)
    bounds = [block.start, *cuts, block.end]
    return [Span(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and (text[start].isspace() or text[start] == "\ufeff"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def split_sentences(text: str) -> list[Span]:
    spans: list[Span] = []
    for block in (piece for b in _blocks(text) for piece in _pieces(text, b)):
        chunk = text[block.start : block.end]
        found = 0
        cursor = 0
        for sentence in _sentences(chunk):
            # each sentence is where it occurs first from the end of the one before; one
            # pysbd altered is not in the text, and pysbd's own spans leave it out too
            at = chunk.find(sentence, cursor)
            if at < 0:
                continue
            cursor = at + len(sentence)
            span = _trim(text, block.start + at, block.start + cursor)
            if span:
                spans.append(span)
                found += 1
        if not found:
            span = _trim(text, block.start, block.end)
            if span:
                spans.append(span)
    return spans
