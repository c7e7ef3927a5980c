"""An answer that only says back what the question already names is no answer.

    question: "Who is the director of South Korea's National Intelligence Service?"
    answer:   "NIS"

The reader reads the service's abbreviation (the seed's u04), found in the sentence right
after its name: the question asked for a person, and the documents never name one. An answer
that is the initials of a run of the question's capitalised words is refused, unless the
question asks for the abbreviation ("What is ... known as?", "What does it stand for?"). Of
SQuAD 1.1 train's 86,803 answers held in one sentence, it refuses one ("What is the planned
size of the Chengdu Economic and Technological Development Zone?" -> "CETDZ", itself a
doubtful answer)."""

from __future__ import annotations

import re

_INITIALS = re.compile(r"[A-Z]{2,6}s?")
_ASKS_SHORT = re.compile(
    r"\b(?:abbreviat\w*|acronym\w*|short\w*|initials|called|call|know\w*|stand\w*|name\w*)\b",
    re.IGNORECASE,
)
_SKIPPED = frozenset({"of", "the", "and", "for", "&"})


def initials_of_question(question: str, answer: str) -> bool:
    """True when ``answer`` is the initials of a run of ``question``'s capitalised words
    ("NIS" of "National Intelligence Service") and the question does not ask for them."""
    answer = answer.strip()
    if not _INITIALS.fullmatch(answer) or _ASKS_SHORT.search(question):
        return False
    wanted = answer.removesuffix("s")
    asked = re.findall(r"[\w'’&-]+", question)
    for i in range(len(asked)):
        initials = ""
        for word in asked[i:]:
            if word.lower() in _SKIPPED:
                continue
            if not word[:1].isupper():
                break
            initials += word[0]
            if initials == wanted:
                return True
    return False
