"""The original files of the indexed documents, kept in a folder beside the index so a reader
can open what a citation points into (``GET /documents/{id}/file``).

One file per document, named by a hash of its id (an id is a path of any depth and
characters; the hash is a safe flat name) with the id's suffix; written beside and renamed
into place, so a reader sees the old file or the new one. A document's file is replaced with
it and removed with it. Files are not part of the index's atomic changes: a writer killed
between the two leaves at worst a file without its document (swept by the next
``qa index``) or a document without its file (served as 404)."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from index.errors import raise_disk_full

log = logging.getLogger(__name__)


def files_beside(index_dir: Path) -> Path:
    """The folder of originals that goes with the index folder ``index_dir``: a sibling
    (``data/index`` -> ``data/index.files``), which a whole rebuild of the index, renamed
    into place, leaves alone."""
    return index_dir.with_name(f"{index_dir.name}.files")


class KeptFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, doc_id: str) -> Path:
        digest = hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:40]
        suffix = PurePosixPath(doc_id).suffix.lower()
        return self.folder / f"{digest}{suffix if suffix.isascii() else ''}"

    def put(self, doc_id: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(doc_id)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise_disk_full(exc, self.folder)
            raise

    def copy(self, doc_id: str, source: Path) -> None:
        """Keep the file at ``source`` as ``doc_id``'s, unless the same bytes are kept."""
        target = self.path(doc_id)
        data = source.read_bytes()
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return
        self.put(doc_id, data)

    def get(self, doc_id: str) -> bytes | None:
        try:
            return self.path(doc_id).read_bytes()
        except FileNotFoundError:
            return None

    def remove(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            self.path(doc_id).unlink(missing_ok=True)

    def keep_only(self, doc_ids: Iterable[str]) -> None:
        """Remove every file but those of ``doc_ids`` (and leftovers of killed writers)."""
        if not self.folder.is_dir():
            return
        wanted = {self.path(d).name for d in doc_ids}
        for path in self.folder.iterdir():
            if path.is_file() and path.name not in wanted:
                log.debug("removing %s: no document of the index has it", path)
                path.unlink(missing_ok=True)
