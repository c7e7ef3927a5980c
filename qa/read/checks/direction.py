"""Who did what to whom: a question whose two names the cited sentence joins the other way
round is not answered by it.

    question: "How many troops has Russia sent to North Korea?"
    sentence: "North Korea has shipped 1,500 special forces troops to Russia's far east ..."

Both names are in the sentence, every word of the question too, and the reader and its
verifier read "1,500" (the seed's r15). The question sends "to North Korea"; the sentence
sends "to Russia" and to no North Korea: the direction is reversed, and the answer is refused.
The check is narrow on purpose: the same directing word ("to", "from", "by", "against", ...)
right before the question's second name, found in the sentence before its first name and
never before its second. On SQuAD dev13 and SQuAD 2.0's ten train articles (9,276 questions)
it refuses four answers, one of them right (docs/training.md, "Run 11")."""

from __future__ import annotations

import re
from itertools import pairwise

# a run of capitalised words ("North Korea", "Bank of England"), not the question's first word
NAME = re.compile(r"(?<![\w'])(?:[A-Z][\w'.-]*)(?:\s+(?:of|the|de|del|von|van)?\s*[A-Z][\w'.-]*)*")
# words that give a relation between two names its direction
DIRECTED = r"to|from|by|into|against|over|for|on|onto|toward|towards"
# what between two names makes their order no part of the meaning
SYMMETRIC = re.compile(r",|&|\b(and|or|nor|between|with|vs|versus|both|either)\b", re.IGNORECASE)
_BEFORE_SECOND = re.compile(rf"\b({DIRECTED})\s+(?:the\s+)?$", re.IGNORECASE)


def names(question: str) -> list[re.Match]:
    """The runs of capitalised words of ``question`` after its first word."""
    first = re.match(r"\W*\w+", question)
    start = first.end() if first else 0
    return [m for m in NAME.finditer(question) if m.start() >= start]


def _directed_at(word: str, name: str, text: str) -> bool:
    return re.search(rf"\b{word}\s+(?:the\s+)?{re.escape(name)}\b", text) is not None


def reversed_in(question: str, sentence: str) -> bool:
    """True when ``sentence`` joins two names of ``question`` the other way round: the word
    that directs the question's relation at its second name directs the sentence's at its
    first, and never at the second."""
    text = sentence.lower().replace("\u2019", "'")
    held = [m for m in names(question) if m.group().lower() in text]
    for a, b in pairwise(held):
        between = question[a.end() : b.start()]
        directed = _BEFORE_SECOND.search(between)
        if directed is None or SYMMETRIC.search(between):
            continue
        word, first, second = directed.group(1).lower(), a.group().lower(), b.group().lower()
        if _directed_at(word, first, text) and not _directed_at(word, second, text):
            return True
    return False
