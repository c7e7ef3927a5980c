"""Readers, chosen by name: what finds the short answer in a ranked sentence
(qa.roles.Reader). A reader is one module here and one line in ``READERS``; the name is
its ranker's (qa.rankers), whose scores the refusal model was fitted on with it."""

from __future__ import annotations

from collections.abc import Callable

from qa.errors import TrainedModelError
from qa.readers.phrases import PhraseReader
from qa.readers.span_head import SpanHeadReader
from qa.roles import Reader
from qa.settings import Settings

READERS: dict[str, Callable[[Settings], Reader]] = {
    "heuristic": lambda settings: PhraseReader(),
    "cross": lambda settings: SpanHeadReader(),
}


def reader(name: str, settings: Settings) -> Reader:
    if name not in READERS:
        raise TrainedModelError(
            f"unknown reader {name!r} (QA_RANKER): choose one of " + ", ".join(READERS)
        )
    return READERS[name](settings)
