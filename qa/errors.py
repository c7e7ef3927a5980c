"""Errors of the read path. The HTTP layer maps them to status codes in one place,
the CLI to one line and a non-zero exit."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

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
    """The ranker, reader or refusal model asked for cannot be used: an unknown name,
    files that do not load, a ranker without its refusal model."""


class BadQuestion(QAError):
    pass


class TooLong(BadQuestion):
    """A question, or a message of a conversation, over its configured length."""


class UnknownScope(BadQuestion):
    """A question scoped to a document id or a tag the index does not hold (422)."""


class UnknownModel(QAError):
    """A request to the OpenAI-compatible routes names a model qa does not serve."""


class DocumentNotFound(QAError):
    pass


class DocumentTooLarge(QAError):
    pass


class WritesQueued(QAError):
    """As many changes are under way or waiting as the write queue takes (QA_WRITE_QUEUE)."""


class LastDocument(QAError):
    """Deleting it would leave an index of nothing."""


class KeyFileError(QAError):
    """The API key file (QA_API_KEYS=@FILE) is missing or malformed, or a key name is bad."""


class AccessDenied(QAError):
    """A request the access rules refuse (qa/http/security.py); ``status`` is its HTTP status."""

    status: ClassVar[int] = 403
    headers: Mapping[str, str] = MappingProxyType({})


class BadHost(AccessDenied):
    status = 400


class NoKey(AccessDenied):
    status = 401
    headers = MappingProxyType({"WWW-Authenticate": 'Bearer realm="qa"'})


class WrongKey(AccessDenied):
    status = 403


class CrossOrigin(AccessDenied):
    status = 403


class RateLimited(AccessDenied):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


__all__ = [
    "AccessDenied",
    "BadHost",
    "BadQuestion",
    "CrossOrigin",
    "DiskFull",
    "DocumentNotFound",
    "DocumentTooLarge",
    "IndexBusy",
    "IndexError_",
    "IndexMismatch",
    "IndexNotFound",
    "KeyFileError",
    "LastDocument",
    "NoDocuments",
    "NoKey",
    "OverBudget",
    "QAError",
    "RateLimited",
    "TooLong",
    "UnknownModel",
    "UnknownScope",
    "UnreadableDocument",
    "UnsupportedType",
    "WritesQueued",
    "WrongKey",
]
