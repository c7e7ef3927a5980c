"""Errors of the write path; the read path and the boundaries translate them."""

import errno
import os
from pathlib import Path


class IndexError_(Exception):
    """Base class for index problems (named to avoid shadowing the builtin)."""


class IndexNotFound(IndexError_):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"no index at {path}: build one with `qa index seeds/` (or `qa index DIR`)"
        )
        self.path = path


class IndexMismatch(IndexError_):
    """The index on disk was built with another model or format version."""


class NoDocuments(IndexError_):
    """Nothing readable was found under the paths given."""


class UnreadableDocument(Exception):
    """A file whose text cannot be read: wrong encoding, a broken PDF, no text at all."""


class UnsupportedType(UnreadableDocument):
    """A file of a kind that is not indexed (judged by its name's suffix)."""


class OverBudget(UnreadableDocument):
    """A file that would take more time or memory to read than a document is allowed."""


class DiskFull(IndexError_):
    """The disk (or the user's quota) is full: the index could not be saved."""


def raise_disk_full(exc: OSError, index_dir: Path) -> None:
    """Raise DiskFull for an OSError that says the disk is full (else return). The message
    names the index by its folder's name only: it is shown to HTTP clients too."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise DiskFull(
            f"no space left on the disk of the index {index_dir.name!r} to save it "
            f"({os.strerror(exc.errno)}); nothing was changed: free some space and try again"
        ) from exc


class IndexBusy(IndexError_):
    """Another process is writing the index."""


class GraphError(IndexError_):
    """An encoder's ONNX graph that ONNX Runtime cannot open (a damaged file in the cache)."""
