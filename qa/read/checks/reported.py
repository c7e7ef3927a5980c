"""When a thing was said is not when it happened: a "when" question is not answered by the
date of a report.

    question: "When will North Korean troops arrive in Ukraine?"
    sentence: "... will likely be deployed for combat in the war in Ukraine, South Korea's spy
               agency said on Friday."

The reader reads "Friday" (the seed's r16): the day the agency spoke, not a day the troops
arrive. A date right after a verb of saying ("said on", "told ... last") answers only a
question about the saying ("When did the agency say ...?", "When was it announced?"). News
writes its dates this way; SQuAD 1.1 train's 86,803 answers held in one sentence have none
(the check refuses none of them)."""

from __future__ import annotations

import re

_SAID_ON = re.compile(r"\b(?:said|says|told|added|stated)\s+(?:on|last|this|earlier|late)\s+$")
_ASKS_WHEN = re.compile(r"\bwhen\b|\bwhat (?:day|date|month|time)\b", re.IGNORECASE)
# a question about the saying itself
_ASKS_SAYING = re.compile(
    r"\b(?:say\w*|said|tell\w*|told|announc\w*|report\w*|stat(?:e|ed|es|ement\w*)|add(?:ed|s)?|"
    r"confirm\w*|claim\w*|writ\w*|wrote|publish\w*|releas\w*|speech\w*|spoke\w*|speak\w*|"
    r"declar\w*|reveal\w*|disclos\w*|comment\w*|news)\b",
    re.IGNORECASE,
)


def date_of_saying(question: str, sentence: str, start: int) -> bool:
    """True when the answer starting at ``start`` in ``sentence`` is the date a source spoke
    ("said on Friday") and ``question`` asks when something else happened."""
    if not _ASKS_WHEN.search(question) or _ASKS_SAYING.search(question):
        return False
    return _SAID_ON.search(sentence[:start]) is not None
