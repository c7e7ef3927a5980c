"""Hard-wrapped plain text (e-mails, READMEs, Project Gutenberg books) read as paragraphs.

A text is hard-wrapped when its lines run up to one width and no further: nearly every line
that a line of the same paragraph follows is as long as it could be, the next line's first
word would not have fitted on it. Then each such line break becomes a space, so the
sentence splitter sees the sentence whole; a line that ends a sentence or stops short (the
end of a verse, an address, a signature), a blank line, a heading, a list item, a quote, a
table row or code keeps its break. Each break becomes a space of the same length ("\\r\\n" two), so offsets into
the text are offsets into the file. Text written one paragraph a line is left as it is."""

from __future__ import annotations

import itertools
import re

# markdown and e-mail structure: lines that start a block of their own, or are code
_STRUCTURE = re.compile(r"^\s*([#>|]|[-*+•]\s|\d{1,3}[.)]\s|```|~~~)|^( {4}|\t)|\|\s*$")
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*\s*$")
# widths at which people and tools wrap text (72, 76, 78, 80); wider lines are paragraphs
_MAX_WIDTH = 100
_MIN_WIDTH = 30
# wrapped lines that must agree, and the share of them that must be full
_MIN_LINES = 3
_FULL_SHARE = 0.8


def unwrap(text: str) -> str:
    lines = text.split("\n")
    joins = _wrapped_breaks(lines)
    if not joins:
        return text
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i < len(lines) - 1:
            if i in joins:
                out[-1] = line[:-1] + " " if line.endswith("\r") else line
                out.append(" ")
            else:
                out.append("\n")
    return "".join(out)


def _wrapped_breaks(lines: list[str]) -> set[int]:
    """The line breaks to join: those after a full line of a wrapped paragraph, when the
    text is hard-wrapped."""
    candidates: list[int] = []
    fenced = False
    for i, (line, after) in enumerate(itertools.pairwise(lines)):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if fenced or not line.strip() or not after.strip():
            continue
        if _STRUCTURE.search(line) and not _is_prose(line) or _STRUCTURE.search(after):
            continue
        if line.rstrip("\r").endswith("  "):  # a markdown line break
            continue
        if _SENTENCE_END.search(line):  # the splitter ends the sentence there anyway
            continue  # (and a log or list of one sentence a line is not wrapped)
        candidates.append(i)
    if len(candidates) < _MIN_LINES:
        return set()
    lengths = sorted(len(lines[i].rstrip()) for i in candidates)
    width = lengths[int(0.9 * (len(lengths) - 1))]  # a long URL past the width aside
    if not _MIN_WIDTH <= width <= _MAX_WIDTH:
        return set()
    # short lines (a signature, an address) say nothing of the width
    long = [i for i in candidates if len(lines[i].rstrip()) >= width / 2]
    full = [i for i in long if _full(lines[i], lines[i + 1], width)]
    if len(long) < _MIN_LINES or len(full) < _FULL_SHARE * len(long):
        return set()
    return set(full)


def _is_prose(line: str) -> bool:
    """A list item's or quote's line that wraps on to the next."""
    return bool(re.match(r"^\s*([-*+•]|\d{1,3}[.)]|>)\s+\S", line))


def _full(line: str, after: str, width: int) -> bool:
    """Whether the first word of ``after`` would not have fitted on ``line``."""
    word = after.split()[0]
    return len(line.rstrip()) + 1 + len(word) > width
