"""Errors of the read path. The HTTP layer maps them to status codes in one place,
the CLI to one line and a non-zero exit."""

from index.errors import (
    IndexError_,
    IndexMismatch,
    IndexNotFound,
    NoDocuments,
    UnreadableDocument,
    UnsupportedType,
)


class QAError(Exception):
    """Base class for problems a caller can fix."""


class TrainedModelError(QAError):
    """The trained reranker/reader's files are there but do not load."""


class BadQuestion(QAError):
    pass


class TooLong(BadQuestion):
    """A question, or a message of a conversation, over its configured length."""


class UnknownModel(QAError):
    """A request to the OpenAI-compatible routes names a model qa does not serve."""


class DocumentNotFound(QAError):
    pass


class DocumentTooLarge(QAError):
    pass


class LastDocument(QAError):
    """Deleting it would leave an index of nothing."""


__all__ = [
    "BadQuestion",
    "DocumentNotFound",
    "DocumentTooLarge",
    "IndexError_",
    "IndexMismatch",
    "IndexNotFound",
    "LastDocument",
    "NoDocuments",
    "QAError",
    "TooLong",
    "UnknownModel",
    "UnreadableDocument",
    "UnsupportedType",
]
