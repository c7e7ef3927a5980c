"""The question as the later roles see it: its text and the type of answer it asks for
(a number for "how many", a date for "when", a name for "who", ...), worked out once per
question and handed to the ranker, the reader and the answerers alike."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("number", "date", "person", "place", "other")

_NUMBER = re.compile(
    r"\bhow (?:many|much|long|old|far|large|big|tall|high|fast|often)\b"
    r"|\bwhat (?:percentage|percent|number|amount|proportion|fraction|size|population)\b"
)
_DATE = re.compile(
    r"\bwhen\b|\bwhat (?:year|date|day|month|time|century|decade|period)\b"
    r"|\b(?:which|in what) (?:year|date|day|month|century|decade)\b"
)
_PERSON = re.compile(r"\bwho(?:m|se)?\b|\b(?:what|which) (?:person|man|woman|people|name)\b")
_PLACE = re.compile(
    r"\bwhere\b|\b(?:what|which) (?:city|country|state|place|town|region|continent)\b"
)


def answer_type(question: str) -> str:
    """One of ``KINDS``: what the question asks for, from its wording."""
    q = question.lower()
    for kind, pattern in (("number", _NUMBER), ("date", _DATE), ("person", _PERSON)):
        if pattern.search(q):
            return kind
    return "place" if _PLACE.search(q) else "other"


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # one of KINDS

    @classmethod
    def of(cls, text: str) -> Question:
        return cls(text, answer_type(text))
