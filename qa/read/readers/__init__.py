"""Readers, chosen by name: what finds the short answer in a ranked sentence
(qa.read.roles.Reader). A reader is one module here and one line in ``READERS``; each ranker
(qa.read.rankers) names the reader its refusal model was fitted with."""

from __future__ import annotations

from collections.abc import Callable

from qa.errors import TrainedModelError
from qa.read.readers.phrases import PhraseReader
from qa.read.readers.span_head import SpanHeadReader
from qa.read.roles import Reader
from qa.settings import Settings

READERS: dict[str, Callable[[Settings], Reader]] = {
    "phrases": lambda settings: PhraseReader(),
    "span-head": lambda settings: SpanHeadReader(),
}


def reader(name: str, settings: Settings) -> Reader:
    if name not in READERS:
        raise TrainedModelError(f"unknown reader {name!r}: choose one of " + ", ".join(READERS))
    return READERS[name](settings)
