"""Text out of a file's bytes, picked by the file name's suffix: .txt and .md as UTF-8
(hard-wrapped lines unwrapped, see ``index.unwrap``), .html as its visible text, .pdf as its
paragraphs (see ``index.layout`` and ``index.paragraphs``), .docx as its paragraphs and tables.

The extracted text is what the index stores and what citation offsets index, so an HTML,
PDF or Word document is cited and shown as plain text, never as markup."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

from index.errors import OverBudget, UnreadableDocument, UnsupportedType
from index.paragraphs import PageRuns

log = logging.getLogger(__name__)

# Elements whose content is never visible text.
_HIDDEN = ["script", "style", "noscript", "template", "iframe", "object", "svg", "head"]
# Elements that end a paragraph: a blank line is a hard sentence boundary for the splitter.
_BLOCKS = [
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
]  # fmt: skip
_BLOCK_SET = frozenset(_BLOCKS)
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_PARAGRAPH_GAP = re.compile(r"\n\s*\n")
# A .docx is a zip archive: refuse one that would inflate past this before parsing it (a
# 10 MB upload can hold gigabytes of XML).
_MAX_DOCX_INFLATED = 256 * 1024 * 1024
# Past these a PDF is refused before its text is extracted (see _check_pdf_size).
MAX_PDF_PAGES = 2000
MAX_PDF_PAGE_TOKENS = 100_000
MAX_PDF_TOKENS = 2_000_000


# (offset, heading): where the part of a text under each heading starts
Sections = tuple[tuple[int, str], ...]


def run_at(runs: tuple, offset: int):
    """The value of the run holding ``offset`` in (start, value) runs in order of start; None
    before the first run or without runs."""
    at = bisect_right([start for start, _ in runs], offset) - 1
    return runs[at][1] if runs and at >= 0 else None


@dataclass(frozen=True)
class Extracted:
    """A file's text and where each part of it stands in the file: for a PDF, ``pages``
    holds (offset, page) where each page's text starts (1-based pages, offsets into
    ``text``); for Markdown, HTML and Word, ``sections`` holds (offset, heading) where the
    text under each heading starts (the heading's own line included)."""

    text: str
    pages: PageRuns = ()
    sections: Sections = ()
    # a PDF's printed page numbers ("iv", "A-3"), one per page, where the PDF labels its pages
    page_labels: tuple[str, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page the character at ``offset`` stands on; None for a file without pages."""
        at = bisect_right([start for start, _ in self.pages], offset) - 1
        return self.pages[max(at, 0)][1] if self.pages else None

    def section_at(self, offset: int) -> str | None:
        """The heading the character at ``offset`` falls under; None before any heading."""
        return run_at(self.sections, offset)


def joined(blocks: list[tuple[str, bool]]) -> Extracted:
    """Paragraphs joined by blank lines, from (text, is_heading) blocks (empty ones left
    out), with the sections their headings open."""
    parts, sections, offset = [], [], 0
    for text, heading in blocks:
        if not text:
            continue
        if parts:
            offset += 2
        if heading:
            sections.append((offset, text))
        parts.append(text)
        offset += len(text)
    return Extracted("\n\n".join(parts), sections=tuple(sections))


def utf8_text(data: bytes, name: str) -> str:
    """UTF-8 as is (a BOM stays, so offsets match the file read as UTF-8)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(
            f"{name} is not valid UTF-8 ({exc.reason} at byte {exc.start}): "
            "save it as UTF-8 and try again"
        ) from exc


class _VisibleText(HTMLParser):
    """One pass over the markup, keeping counters instead of a tree: linear in the size of
    the page however deeply it nests (a tree walk per element is quadratic)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] | None = None  # the first <title>'s text, once it opens
        self.in_title = False
        self.hidden = dict.fromkeys(_HIDDEN, 0)  # open hidden elements, by name
        self.depth = 0  # how many of them are open
        self.heading: list[str] | None = None  # the text of the h1-h6 open, if one is
        self.headings: list[str] = []  # every heading's text, in order

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "body" and self.hidden["head"]:  # a <head> never closed ends here
            self.depth -= self.hidden["head"]
            self.hidden["head"] = 0
        if tag in self.hidden:
            self.hidden[tag] += 1
            self.depth += 1
        elif tag == "title" and self.title is None:
            self.title, self.in_title = [], True
        if tag in _HEADINGS and not self.depth:
            self.heading = []
        if tag in _BLOCK_SET:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in _BLOCK_SET:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self.hidden.get(tag):
            self.hidden[tag] -= 1
            self.depth -= 1
        elif tag == "title":
            self.in_title = False
        if tag in _HEADINGS and self.heading is not None:
            self.headings.append(" ".join("".join(self.heading).split()))
            self.heading = None
        if tag in _BLOCK_SET:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.in_title and self.title is not None:
            self.title.append(data)
        if not self.depth:
            self.parts.append(data)
            if self.heading is not None:
                self.heading.append(data)


def html_text(data: bytes, name: str) -> str:
    """``html_extracted(data, name).text``."""
    return html_extracted(data, name).text


def html_extracted(data: bytes, name: str) -> Extracted:
    """The visible text of an HTML page: scripts and styles dropped, one paragraph per
    block element, whitespace inside a paragraph collapsed; its h1-h6 open sections."""
    from bs4.dammit import UnicodeDammit

    markup = UnicodeDammit(data, is_html=True).unicode_markup
    if markup is None:
        raise UnreadableDocument(f"{name}: its character encoding cannot be told")
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    title = " ".join("".join(parser.title or []).split())
    paragraphs = [" ".join(p.split()) for p in _PARAGRAPH_GAP.split("".join(parser.parts))]
    paragraphs = [p for p in paragraphs if p]
    if title and (not paragraphs or paragraphs[0] != title):
        paragraphs.insert(0, title)
    # a heading is a block of its own: the next paragraph equal to it, in order
    headings = iter(parser.headings)
    wanted = next(headings, None)
    blocks = []
    for p in paragraphs:
        is_heading = wanted is not None and p == wanted
        if is_heading:
            wanted = next(headings, None)
        blocks.append((p, is_heading))
    return joined(blocks)


def _check_pdf_size(reader, name: str) -> None:
    """Refuse a PDF whose pages or content streams are beyond what a document needs:
    pypdf's time and memory grow with the operators it interprets (500,000 of them
    compress into 11 KB and take a minute and 800 MB)."""
    pages = len(reader.pages)
    if pages > MAX_PDF_PAGES:
        raise OverBudget(f"{name} has {pages:,} pages; at most {MAX_PDF_PAGES:,} are read")
    tokens = 0
    for page in reader.pages:
        contents = page.get_contents()
        if contents is None:
            continue
        # operators and their operands; a page of text holds a few thousand
        count = len(contents.get_data().split())
        if count > MAX_PDF_PAGE_TOKENS:
            raise OverBudget(
                f"{name} has a page of {count:,} content operators and operands; at most "
                f"{MAX_PDF_PAGE_TOKENS:,} a page are read"
            )
        tokens += count
        if tokens > MAX_PDF_TOKENS:
            raise OverBudget(
                f"{name} holds more than {MAX_PDF_TOKENS:,} content operators and operands; "
                "split it into smaller files"
            )


def pdf_pages(data: bytes, name: str) -> Extracted:
    """A PDF's text as paragraphs (pages run on; running heads, page numbers and margin
    line numbers left out; footnotes apart), with the page of every part of it."""
    import pypdfium2 as pdfium
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    from index.layout import page_lines
    from index.paragraphs import rebuild

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableDocument(f"{name} is an encrypted PDF: save an unprotected copy")
        _check_pdf_size(reader, name)
    # pypdf reports a damaged file through its own errors and, deeper in the parser,
    # through these builtins; any of them means the same thing to the caller.
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise UnreadableDocument(f"{name} is not a readable PDF ({exc})") from exc
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadableDocument(f"{name} is not a readable PDF ({exc})") from exc
    try:
        lines = [line for n in range(1, len(document) + 1) for line in page_lines(document, n)]
        labels = tuple(document.get_page_label(n) or "" for n in range(len(document)))
    finally:
        document.close()
    rebuilt = rebuild(lines)
    if not any(labels):
        labels = ()
    return Extracted(rebuilt.text, rebuilt.pages, page_labels=labels)


def docx_text(data: bytes, name: str) -> str:
    """``docx_extracted(data, name).text``."""
    return docx_extracted(data, name).text


def docx_extracted(data: bytes, name: str) -> Extracted:
    """A Word document's body in reading order: one paragraph per paragraph, one per table
    row with its cells' text joined by " | " (headers, footers and comments left out);
    paragraphs styled as a heading (or the title) open sections."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        # a .docx is a zip package; an old .doc, or a password-protected .docx, is not
        raise UnreadableDocument(
            f"{name} is not a readable Word document (not a .docx package: an old .doc "
            "or a password-protected file? save it as .docx without a password)"
        ) from exc
    try:
        if inflated > _MAX_DOCX_INFLATED:
            raise UnreadableDocument(
                f"{name} unpacks to {inflated:,} bytes; at most {_MAX_DOCX_INFLATED:,} are read"
            )
        body = Document(io.BytesIO(data))
        paragraphs = list(_docx_blocks(body))
    # python-docx reports a file that is no Word document (or a damaged one) through the zip
    # and XML layers' own errors and a few builtins; all mean the same to the caller.
    except (zipfile.BadZipFile, PackageNotFoundError, LxmlError, KeyError, ValueError) as exc:
        raise UnreadableDocument(f"{name} is not a readable Word document ({exc})") from exc
    return joined(paragraphs)


def _docx_blocks(container) -> Iterator[tuple[str, bool]]:
    """Paragraphs and table rows of a document body or a table cell, in order, each with
    whether it is a heading."""
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = [_docx_cell(cell) for cell in _unique_cells(row)]
                yield " | ".join(c for c in cells if c), False
        else:
            yield " ".join(item.text.split()), _docx_heading(item)


def _docx_heading(paragraph) -> bool:
    try:
        style = paragraph.style.name if paragraph.style is not None else ""
    except (KeyError, ValueError, AttributeError):  # a style the package does not define
        return False
    return style.startswith("Heading") or style == "Title"


def _unique_cells(row) -> list:
    """A row's cells, a merged cell once (python-docx repeats it for every grid column)."""
    seen, cells = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell)
    return cells


def _docx_cell(cell) -> str:
    return " ".join(block for block, _ in _docx_blocks(cell) if block)


Extractor = Callable[[bytes, str], Extracted]


def _text_only(read: Callable[[bytes, str], str]) -> Extractor:
    return lambda data, name: Extracted(read(data, name))


def plain_text(data: bytes, name: str) -> str:
    """UTF-8 (see ``utf8_text``) with hard-wrapped lines joined (see ``index.unwrap``)."""
    from index.unwrap import unwrap

    return unwrap(utf8_text(data, name))


# an ATX heading of Markdown: "# Title", "## Part 2 ##"
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def markdown_text(data: bytes, name: str) -> Extracted:
    """Markdown as plain text (``plain_text``: the markup stays, offsets are the file's
    once unwrapped); its ``#`` headings open sections."""
    text = plain_text(data, name)
    sections = tuple((m.start(), m[1].strip()) for m in _MD_HEADING.finditer(text))
    return Extracted(text, sections=sections)


EXTRACTORS: dict[str, Extractor] = {
    ".txt": _text_only(plain_text),
    ".md": markdown_text,
    ".html": html_extracted,
    ".htm": html_extracted,
    ".pdf": pdf_pages,
    ".docx": docx_extracted,
}
SUFFIXES = tuple(EXTRACTORS)


def extractor_for(name: str) -> Extractor:
    """How a file called ``name`` is read; UnsupportedType when it is not indexed."""
    suffix = PurePath(name).suffix.lower()
    extractor = EXTRACTORS.get(suffix)
    if extractor is None:
        kind = f"{suffix} files are" if suffix else "files without a suffix are"
        raise UnsupportedType(f"{name}: {kind} not indexed; use one of {', '.join(SUFFIXES)}")
    return extractor


def extract(data: bytes, name: str) -> Extracted:
    """The text of the file called ``name`` holding ``data`` (and its pages, for a PDF);
    UnreadableDocument when there is none to be had."""
    suffix = PurePath(name).suffix.lower()
    extracted = extractor_for(name)(data, name)
    if not extracted.text.strip():
        hint = (
            " (a scanned PDF? only PDFs with a text layer can be read)" if suffix == ".pdf" else ""
        )
        raise UnreadableDocument(f"{name} holds no text{hint}")
    return extracted


def extract_text(data: bytes, name: str) -> str:
    """``extract(data, name).text``."""
    return extract(data, name).text
