"""Look-alikes that keep the answer sentence's own words, for the answerability verifier.

SQuAD 2.0's crowdworkers mostly brought a word into the question that the paragraph does not
hold (train/negatives.py). A reader asking about one news article makes another mistake the
verifier let through: every word of the question is in the sentence, but the question asks
something else of them.

    "How many troops has North Korea sent to Russia?"
    -> "How many troops has Russia sent to North Korea?"       (``reverse_names``)
    "How many troops were shipped?" (the sentence counts troops and containers)
    -> "How many tanks were shipped?"                         (``swap_counted``: the thing
       counted, taken from another "How many" question of the article, not in the window)

Both are checked mechanically: two names are swapped only when a directed phrase ("sent
to", "by", "from") stands between them, never across "and", "or", "between" or a comma; a
counted thing is swapped only for one the window does not mention."""

from __future__ import annotations

import re
from itertools import pairwise

from qa.read.checks.direction import DIRECTED, SYMMETRIC, names

# what between two names makes their order part of the meaning
_DIRECTED = re.compile(rf"\b({DIRECTED}|than|after|before|under)\b", re.IGNORECASE)
# "How many <counted> <verb or auxiliary> ...": the counted thing is the words before the verb
_COUNTED = re.compile(
    r"^(how many\s+)([a-z][a-z-]*(?:\s+[a-z][a-z-]*){0,2}?)(?=\s+(?:is|are|was|were|did|do|does|"
    r"has|have|had|will|would|can|could|might|must|should|shall|may)\b)",
    re.IGNORECASE,
)


# the kinds of spaCy entity that name something a question can put either way round (not
# "American" or "Irish", which read as adjectives)
NAMED = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT"})


def reverse_names(question: str, sentence: str, entities: set[str] | None = None) -> str | None:
    """``question`` with two of its names swapped, both named in ``sentence`` and joined by a
    directed phrase; None when no such pair exists. ``entities``: the question's names of the
    ``NAMED`` kinds as spaCy finds them, when known (a name must be one of them, "the" aside)."""
    held = sentence.lower()
    named = [m for m in names(question) if m.group().lower() in held]
    if entities is not None:
        bare = {e.removeprefix("the ").removeprefix("The ") for e in entities}
        named = [m for m in named if m.group() in bare]
    for a, b in pairwise(named):
        between = question[a.end() : b.start()]
        if (
            a.group().lower() == b.group().lower()
            or a.group() in b.group()
            or b.group() in a.group()
        ):
            continue
        if SYMMETRIC.search(between) or not _DIRECTED.search(between):
            continue
        return question[: a.start()] + b.group() + between + a.group() + question[b.end() :]
    return None


def counted(question: str) -> str | None:
    """What a "How many ... ?" question counts (its words before the verb), or None."""
    m = _COUNTED.match(question.strip())
    return m.group(2).lower() if m else None


def swap_counted(question: str, window: str, pool: list[str]) -> str | None:
    """A "How many X ... ?" question counting instead a thing of ``pool`` (what other
    questions of the article count) that ``window`` never mentions; None otherwise."""
    m = _COUNTED.match(question.strip())
    if not m:
        return None
    own = m.group(2).lower()
    text = window.lower()
    for other in pool:
        if other != own and not any(re.search(rf"\b{re.escape(w)}", text) for w in other.split()):
            stripped = question.strip()
            return stripped[: m.start(2)] + other + stripped[m.end(2) :]
    return None
