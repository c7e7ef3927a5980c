"""Reading documents from disk: each file becomes a Document whose id is its path
relative to the folder it was found under, and whose text is the file's extracted text
(see ``index.extract``: .txt, .md, .html, .pdf, .docx)."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from index.budget import Budget, prepare
from index.errors import UnreadableDocument
from index.extract import SUFFIXES, extract
from index.places import NOWHERE, Places
from index.unmask import hidden_in

log = logging.getLogger(__name__)

_PARSED = {".html", ".htm", ".pdf"}

__all__ = ["SUFFIXES", "Document", "content_hash", "decode", "iter_files", "read_documents"]


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str
    uploaded: bool = False  # added over HTTP, not read from a folder
    added_by: str | None = None  # an API key's name, "http" (no keys) or "cli" (`qa index`)
    added_at: str | None = None  # when, ISO 8601 UTC
    places: Places = NOWHERE  # its pages and sections (index.places)
    tags: tuple[str, ...] = ()  # names a question can be scoped to (`qa index --tag`)
    # the file it was read from, kept beside the index (index.files); not part of its identity
    path: Path | None = field(default=None, compare=False)

    @property
    def sha256(self) -> str:
        return content_hash(self.text)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode(data: bytes, name: str) -> str | None:
    """Decode UTF-8 as is (a BOM stays, so offsets match the file read as UTF-8); None,
    with a warning naming the file, when it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        log.warning("skipped %s: not valid UTF-8 (%s)", name, exc.reason)
        return None


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Yield (file, doc_id) for every supported file under the given files or folders. A
    symbolic link inside a folder that leads out of it is skipped with a warning (a link in
    a shared folder must not index /etc/hosts); links to folders are not followed."""
    for root in paths:
        if root.is_file():
            yield root, root.name
        elif root.is_dir():
            yield from _folder_files(root)
        else:
            raise FileNotFoundError(f"no such file or folder: {root}")


def _folder_files(root: Path) -> Iterator[tuple[Path, str]]:
    inside = root.resolve()
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in [*files, *dirs]:
            path = Path(folder) / name
            if path.is_symlink() and not path.resolve().is_relative_to(inside):
                log.warning("skipped %s: a link to %s, outside %s", path, path.resolve(), root)
                continue
            wanted = name in files and not name.startswith(".")
            if wanted and path.suffix.lower() in SUFFIXES and path.is_file():
                found.append(path)
    for file in sorted(found):
        yield file, file.relative_to(root).as_posix()


def read_documents(
    paths: Iterable[Path], budget: Budget | None = None, tags: Iterable[str] = ()
) -> list[Document]:
    """The documents under ``paths``, each tagged ``tags``; with a ``budget``, HTML and PDF
    files (whose parsers' time and memory an odd file can blow up) are read in a worker
    process within it."""
    tags = sorted(set(tags))
    docs: dict[str, Document] = {}
    for file, doc_id in iter_files(paths):
        if hidden := hidden_in(doc_id):
            log.warning(
                "skipped %s: its name holds invisible or direction-changing characters (%s)",
                ascii(doc_id),
                ", ".join(sorted(set(hidden))),
            )
            continue
        try:
            data = file.read_bytes()
            if budget is not None and file.suffix.lower() in _PARSED:
                prepared = prepare(data, str(file), budget)
                text = prepared.text
                places = Places(prepared.pages, prepared.page_labels, prepared.sections)
            else:
                extracted = extract(data, str(file))
                text = extracted.text
                places = Places(extracted.pages, extracted.page_labels, extracted.sections)
        except UnreadableDocument as exc:
            log.warning("skipped %s", exc)
            continue
        if doc_id in docs:
            log.warning("two files are named %s; keeping the first", doc_id)
            continue
        docs[doc_id] = Document(doc_id, text, places=places, tags=tuple(tags), path=file)
    return list(docs.values())
