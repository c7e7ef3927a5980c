"""Errors of the read path. The HTTP layer maps them to status codes in one place,
the CLI to one line and a non-zero exit."""

from index.errors import IndexError_, IndexMismatch, IndexNotFound, NoDocuments


class QAError(Exception):
    """Base class for problems a caller can fix."""


class BadQuestion(QAError):
    pass


class DocumentNotFound(QAError):
    pass


__all__ = [
    "BadQuestion",
    "DocumentNotFound",
    "IndexError_",
    "IndexMismatch",
    "IndexNotFound",
    "NoDocuments",
    "QAError",
]
