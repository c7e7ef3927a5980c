"""Short, keyword-style versions of training questions, as people type them.

SQuAD's questions are long and worded after their paragraph; people ask "How many troops
were shipped?". A model trained on SQuAD's alone (and on look-alikes that are all
negatives) can learn that a short question is answered by nothing. Each short version
keeps the question's wh-phrase and two or more of its content words that its evidence
sentence holds (one word shorter at least), in their order, with the same answers and
evidence (seed 0, the seed set's questions):

    "How many special forces troops has North Korea sent to Russia's far east?"
    -> "How many special forces troops North Korea east?"
    "What technology did the NIS use to identify North Korean officers?"
    -> "What technology NIS identify Korean officers?"
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from spacy.lang.en.stop_words import STOP_WORDS

from eval.data import QAItem

WH = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how"}
HOW = {"many", "much", "long", "old", "far", "often", "large", "big", "high", "tall"}
STOP = STOP_WORDS | {"'s", "’s"}
WORD = re.compile(r"[\w'’-]+")


def short_question(question: str, evidence: str, rng: random.Random) -> str | None:
    """A keyword-style version of ``question``: its wh-phrase (a preposition before it
    dropped; "how many", "which" with the word after it), then two or more of its content
    words that ``evidence`` holds (all but one at most when there are three or more), in
    order. None when it has no wh-phrase, fewer than two such words, or no word to drop."""
    words = WORD.findall(question)
    if len(words) > 1 and words[0].lower() not in WH and words[1].lower() in WH:
        words = words[1:]  # "In which region ..." -> "which region ..."
    if not words or words[0].lower() not in WH:
        return None
    head = 1
    if words[0].lower() == "how" and len(words) > 1 and words[1].lower() in HOW:
        head = 2
    typed = words[0].lower() in {"how", "what", "which", "whose"}
    if typed and len(words) > head and words[head].lower() not in STOP:
        head += 1  # the asked type: "how many troops", "which region"
    held = {w.lower() for w in WORD.findall(evidence)}
    content = [w for w in words[head:] if w.lower() not in STOP and w.lower() in held]
    if len(content) < 2:
        return None
    if len(content) > 2:
        picked = sorted(rng.sample(range(len(content)), rng.randint(2, len(content) - 1)))
        content = [content[k] for k in picked]
    if head + len(content) == len(words):
        return None  # already as short as it gets
    return " ".join(words[:head] + content) + "?"


def short_items(items: Sequence[QAItem], share: float, seed: int) -> list[QAItem]:
    """Short versions of ``share`` of the answerable ``items`` (where one can be made)."""
    rng = random.Random(seed)
    answerable = [i for i in items if i.answers and i.evidence]
    out = []
    for item in rng.sample(answerable, round(share * len(answerable))):
        if made := short_question(item.question, item.evidence, rng):
            out.append(QAItem(f"{item.id}-short", made, item.answers, item.doc, item.evidence))
    return out
