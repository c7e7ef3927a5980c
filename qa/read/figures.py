"""What a figure counts, and what a question asks to count: "1,500 special forces troops"
counts troops, "more than 13,000 containers" counts containers, and "How many artillery
rounds ...?" asks for rounds. Two figures of different things are not different figures
of one."""

from __future__ import annotations

import re
from itertools import takewhile

from index.tokens import STOP_WORDS, terms, words

_HOW_MANY = re.compile(r"\bhow (?:many|much)\s+(.*)", re.IGNORECASE)


def counted(after: str) -> set[str]:
    """The stemmed words right after a figure (up to the next punctuation, at most four):
    what it counts ("1,500 special forces troops" -> special, forc, troop)."""
    clause = re.split(r"[,.;:()]", after, maxsplit=1)[0]
    return set(terms(" ".join(clause.split()[:4])))


def asked_to_count(question: str) -> set[str]:
    """The stemmed words of "how many X" up to its first verb or function word ("troops"
    of "How many troops were shipped?"); empty when the question names nothing to count."""
    asked = _HOW_MANY.search(question)
    if not asked:
        return set()
    return set(terms(" ".join(takewhile(lambda w: w not in STOP_WORDS, words(asked.group(1))))))
