"""Errors of the read path. The HTTP layer maps them to status codes in one place,
the CLI to one line and a non-zero exit."""

from index.errors import (
    DiskFull,
    IndexBusy,
    IndexError_,
    IndexMismatch,
    IndexNotFound,
    NoDocuments,
    OverBudget,
    UnreadableDocument,
    UnsupportedType,
)


class QAError(Exception):
    """Base class for problems a caller can fix."""


class TrainedModelError(QAError):
    """The trained reranker/reader's files are there but do not load."""


class BadQuestion(QAError):
    pass


class DocumentNotFound(QAError):
    pass


class DocumentTooLarge(QAError):
    pass


class LastDocument(QAError):
    """Deleting it would leave an index of nothing."""


__all__ = [
    "BadQuestion",
    "DiskFull",
    "DocumentNotFound",
    "DocumentTooLarge",
    "IndexBusy",
    "IndexError_",
    "IndexMismatch",
    "IndexNotFound",
    "LastDocument",
    "NoDocuments",
    "OverBudget",
    "QAError",
    "UnreadableDocument",
    "UnsupportedType",
]
