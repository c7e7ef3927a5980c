"""The lines of a PDF's pages as PDFium lays them out: each line's text, where it stands on
its page and how large its type is, so ``index.paragraphs`` can tell a wrapped line from
the end of a paragraph, a heading, a footnote or a page number.

PDFium (through pypdfium2) reads the text in the order the page draws it, which is reading
order for the PDFs that word processors and TeX write (one column after the other); it puts
in the spaces a page leaves out, and maps ligature glyphs to their letters. A line is what
PDFium ends with a line break, cut further where its words stand more than two ems apart
(table cells, margin line numbers): each such run is a ``Segment``."""

from __future__ import annotations

import ctypes
import unicodedata
from dataclasses import dataclass

# the line breaks PDFium puts in
_BREAKS = {"\n", "\r"}
# a gap past this many font sizes parts a line into segments (justified prose has gaps
# of up to 1.5, the cells of a table 2 and more)
_SEGMENT_GAP_EMS = 2.0
_SUPERSCRIPTS = str.maketrans("0123456789+-=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾")


@dataclass(frozen=True)
class Segment:
    text: str
    x0: float
    x1: float


@dataclass(frozen=True)
class Line:
    """One line of a page; coordinates in points, y growing up the page."""

    page: int  # 1-based
    segments: tuple[Segment, ...]
    baseline: float
    size: float  # the height of its main type
    first_word: float  # how wide its first word is

    @property
    def text(self) -> str:
        return " | ".join(s.text for s in self.segments)

    @property
    def x0(self) -> float:
        return self.segments[0].x0

    @property
    def x1(self) -> float:
        return self.segments[-1].x1


@dataclass
class _Char:
    char: str
    left: float
    right: float
    baseline: float
    size: float


def page_lines(document, number: int) -> list[Line]:
    """The lines of page ``number`` (1-based) of a pypdfium2 ``PdfDocument``, in the
    order PDFium reads them."""
    import pypdfium2.raw as pdfium_c

    page = document[number - 1]
    textpage = page.get_textpage()
    try:
        chars = _chars(textpage.raw, pdfium_c)
    finally:
        textpage.close()
        page.close()
    lines: list[Line] = []
    current: list[_Char] = []
    last: _Char | None = None
    broken = False  # PDFium ended a line since ``last``
    for char in chars:
        if char.size <= 0:
            broken = broken or char.char in _BREAKS
            current.append(char)
            continue
        # a new line where the baseline moves (a superscript stays: it moves less) or
        # where PDFium broke the line and the text goes back to the left
        if last is not None and (
            abs(char.baseline - last.baseline) > 0.4 * max(char.size, last.size)
            and not _raised(char, last)
            or broken
            and char.left < last.right
        ):
            lines += _line(number, current)
            current = []
        current.append(char)
        last, broken = char, False
    lines += _line(number, current)
    return lines


def _raised(char: _Char, last: _Char) -> bool:
    """A superscript after ``last`` (or the text after one)."""
    small, big = (char, last) if char.size < last.size else (last, char)
    return small.size < 0.8 * big.size and 0 < small.baseline - big.baseline < 0.6 * big.size


def _chars(textpage, pdfium_c) -> list[_Char]:
    left, right = ctypes.c_double(), ctypes.c_double()
    bottom, top = ctypes.c_double(), ctypes.c_double()
    x, y = ctypes.c_double(), ctypes.c_double()
    chars = []
    for index in range(pdfium_c.FPDFText_CountChars(textpage)):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage, index))
        if pdfium_c.FPDFText_IsHyphen(textpage, index):
            char = "-"  # a hyphen PDFium joined to the next line: the line ends here
        elif pdfium_c.FPDFText_IsGenerated(textpage, index) or char.isspace():
            chars.append(_Char(char if char in _BREAKS else " ", 0.0, 0.0, 0.0, 0.0))
            continue
        elif unicodedata.category(char) in ("Co", "Cc", "Cn", "Cs"):
            continue  # private-use glyphs (icons, flags) and controls read as nothing
        pdfium_c.FPDFText_GetCharBox(textpage, index, left, right, bottom, top)
        pdfium_c.FPDFText_GetCharOrigin(textpage, index, x, y)
        size = pdfium_c.FPDFText_GetFontSize(textpage, index)
        chars.append(_Char(char, left.value, right.value, y.value, size))
    return chars


def _line(page: int, chars: list[_Char]) -> list[Line]:
    """A line of characters as one Line, parted into segments at wide gaps; superscripts
    (footnote marks, exponents) as superscript characters."""
    real = [c for c in chars if c.size > 0]
    if not real:
        return []
    size = _main_size(real)
    baseline = _main_baseline(real, size)
    segments: list[Segment] = []
    text: list[str] = []
    start = end = None
    word_end = None
    spaced = False  # a space or line break since ``end``
    for char in chars:
        if char.size <= 0:
            spaced = True
            continue
        if end is not None:
            gap = char.left - end.right
            if gap > _SEGMENT_GAP_EMS * size:
                segments += _segment(text, start, end)
                text, start = [], None
            elif spaced and gap > 0.1 * size:  # not before a superscript set close
                text.append(" ")
            if spaced and word_end is None:
                word_end = end.right
        if char.size < 0.8 * size and char.baseline > baseline + 0.15 * size:
            text.append(char.char.translate(_SUPERSCRIPTS))
        else:
            text.append(char.char)
        start = start or char
        end, spaced = char, False
    segments += _segment(text, start, end)
    if not segments or end is None:
        return []
    width = (word_end or end.right) - segments[0].x0
    return [Line(page, tuple(segments), baseline, size, width)]


def _segment(text: list[str], start: _Char | None, end: _Char | None) -> list[Segment]:
    words = " ".join("".join(text).split())
    if not words or start is None or end is None:
        return []
    return [Segment(words, start.left, end.right)]


def _main_size(chars: list[_Char]) -> float:
    counts: dict[float, int] = {}
    for c in chars:
        key = round(c.size, 1)
        counts[key] = counts.get(key, 0) + 1
    return max(counts, key=lambda k: (counts[k], k))


def _main_baseline(chars: list[_Char], size: float) -> float:
    lows = sorted(c.baseline for c in chars if abs(c.size - size) <= 0.1 * size)
    return lows[len(lows) // 2] if lows else chars[0].baseline
