"""Problems with an evaluation run that the user can fix; the CLI prints them as one line."""

from qa.errors import QAError


class EvalError(QAError):
    pass


class BadQAFile(EvalError):
    """The Q&A file is missing or (with --strict) has a malformed line."""


class ServiceUnreachable(EvalError):
    """The --url service did not answer."""
