"""Errors of the answer backends. The HTTP layer maps ``UpstreamError`` to 502; the others
are set-up problems reported when the engine starts."""

from qa.errors import QAError


class UnknownAnswerer(QAError):
    pass


class ModelUnavailable(QAError):
    """The backend's library or model file is not installed; the message says how to fix it."""


class UpstreamError(QAError):
    """The model server failed, timed out or sent something unreadable."""
