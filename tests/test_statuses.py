"""One table from domain errors to HTTP statuses (qa/http/statuses.py): the specific kinds win
over the general ones they belong to."""

import pytest

from qa.errors import (
    BadHost,
    DiskFull,
    DocumentNotFound,
    DocumentTooLarge,
    IndexBusy,
    IndexMismatch,
    IndexNotFound,
    LastDocument,
    NoKey,
    OverBudget,
    QAError,
    RateLimited,
    TooLong,
    UnknownModel,
    UnreadableDocument,
    UnsupportedType,
    WrongKey,
)
from qa.http.statuses import status_of
from qa.read.answerers.errors import UpstreamError


@pytest.mark.parametrize(
    "error, status",
    [
        (UnsupportedType("x"), 415),
        (OverBudget("x"), 422),
        (UnreadableDocument("x"), 422),
        (DocumentTooLarge("x"), 413),
        (DocumentNotFound("x"), 404),
        (LastDocument("x"), 409),
        (TooLong("x"), 422),
        (DiskFull("x"), 507),
        (IndexBusy("x"), 503),
        (IndexNotFound("data/index"), 503),
        (IndexMismatch("x"), 503),
        (UpstreamError("x"), 502),
        (UnknownModel("x"), 400),
        (QAError("x"), 400),
        (BadHost("x"), 400),
        (NoKey("x"), 401),
        (WrongKey("x"), 403),
    ],
)
def test_each_error_has_its_status(error, status):
    assert status_of(error)[0] == status


def test_statuses_carry_their_headers():
    assert status_of(IndexBusy("x"))[1] == {"retry-after": "5"}
    assert status_of(NoKey("x"))[1]["WWW-Authenticate"].startswith("Bearer")
    assert status_of(RateLimited("slow down", 7)) == (429, {"Retry-After": "7"})


def test_an_error_outside_the_table_is_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        status_of(ZeroDivisionError())
