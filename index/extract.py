"""Text out of a file's bytes, picked by the file name's suffix: .txt and .md as UTF-8,
.html as its visible text, .pdf as its pages' text, .docx as its paragraphs and tables.

The extracted text is what the index stores and what citation offsets index, so an HTML,
PDF or Word document is cited and shown as plain text, never as markup."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import PurePath

from index.errors import UnreadableDocument, UnsupportedType

log = logging.getLogger(__name__)

# Elements whose content is never visible text.
_HIDDEN = ["script", "style", "noscript", "template", "iframe", "object", "svg", "head"]
# Elements that end a paragraph: a blank line is a hard sentence boundary for the splitter.
_BLOCKS = [
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
]  # fmt: skip
_PARAGRAPH_GAP = re.compile(r"\n\s*\n")
# A .docx is a zip archive: refuse one that would inflate past this before parsing it (a
# 10 MB upload can hold gigabytes of XML).
_MAX_DOCX_INFLATED = 256 * 1024 * 1024


def utf8_text(data: bytes, name: str) -> str:
    """UTF-8 as is (a BOM stays, so offsets match the file read as UTF-8)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(
            f"{name} is not valid UTF-8 ({exc.reason} at byte {exc.start}): "
            "save it as UTF-8 and try again"
        ) from exc


def html_text(data: bytes, name: str) -> str:
    """The visible text of an HTML page: scripts and styles dropped, one paragraph per
    block element, whitespace inside a paragraph collapsed."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_HIDDEN):
        tag.decompose()
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    paragraphs = [" ".join(p.split()) for p in _PARAGRAPH_GAP.split(soup.get_text())]
    paragraphs = [p for p in paragraphs if p]
    if title and (not paragraphs or paragraphs[0] != title):
        paragraphs.insert(0, title)
    return "\n\n".join(paragraphs)


def pdf_text(data: bytes, name: str) -> str:
    """The text of every page, pages separated by a blank line."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableDocument(f"{name} is an encrypted PDF: save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    # pypdf reports a damaged file through its own errors and, deeper in the parser,
    # through these builtins; any of them means the same thing to the caller.
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise UnreadableDocument(f"{name} is not a readable PDF ({exc})") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())


def docx_text(data: bytes, name: str) -> str:
    """A Word document's body in reading order: one paragraph per paragraph, one per table
    row with its cells' text joined by " | " (headers, footers and comments left out)."""
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
    return "\n\n".join(p for p in paragraphs if p)


def _docx_blocks(container) -> Iterator[str]:
    """Paragraphs and table rows of a document body or a table cell, in order."""
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = [_docx_cell(cell) for cell in _unique_cells(row)]
                yield " | ".join(c for c in cells if c)
        else:
            yield " ".join(item.text.split())


def _unique_cells(row) -> list:
    """A row's cells, a merged cell once (python-docx repeats it for every grid column)."""
    seen, cells = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell)
    return cells


def _docx_cell(cell) -> str:
    return " ".join(block for block in _docx_blocks(cell) if block)


Extractor = Callable[[bytes, str], str]

EXTRACTORS: dict[str, Extractor] = {
    ".txt": utf8_text,
    ".md": utf8_text,
    ".html": html_text,
    ".htm": html_text,
    ".pdf": pdf_text,
    ".docx": docx_text,
}
SUFFIXES = tuple(EXTRACTORS)


def extract_text(data: bytes, name: str) -> str:
    """The text of the file called ``name`` holding ``data``; UnreadableDocument when
    there is none to be had."""
    suffix = PurePath(name).suffix.lower()
    extractor = EXTRACTORS.get(suffix)
    if extractor is None:
        kind = f"{suffix} files are" if suffix else "files without a suffix are"
        raise UnsupportedType(f"{name}: {kind} not indexed; use one of {', '.join(SUFFIXES)}")
    text = extractor(data, name)
    if not text.strip():
        hint = (
            " (a scanned PDF? only PDFs with a text layer can be read)" if suffix == ".pdf" else ""
        )
        raise UnreadableDocument(f"{name} holds no text{hint}")
    return text
