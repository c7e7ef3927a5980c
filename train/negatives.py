"""Unanswerable look-alikes of answerable questions, for teaching the reader to say "this
sentence does not answer that".

SQuAD 2.0's crowdworkers made their unanswerable questions mostly by small edits of an
answerable one (Rajpurkar, Jia, Liang 2018, table 2): an entity swapped for another (21%),
a negation added or removed (9%), an antonym (20%), a condition the paragraph does not
state, a number changed. The edits here are those that can be checked mechanically: each
brings into the question a word the paragraph does not hold (a name or number of the same
kind taken from elsewhere in the article, an antonym), or negates a sentence that holds no
negation, so the paragraph cannot answer the edited question as it answered the original.

    "How many people were killed in the 2008 Sichuan earthquake?"
    -> "How many people were killed in the 2010 Sichuan earthquake?"        (number)
    -> "When did Beyoncé start becoming popular?"
    -> "When did Rihanna start becoming popular?"                           (entity)
    -> "What was the largest city?" -> "What was the smallest city?"        (antonym)
    -> "Who was the first president?" -> "Who was not the first president?" (negation)
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eval.data import QAItem

ANTONYMS = {
    "first": "last",
    "largest": "smallest",
    "highest": "lowest",
    "most": "least",
    "earliest": "latest",
    "oldest": "newest",
    "before": "after",
    "north": "south",
    "east": "west",
    "increase": "decrease",
    "increased": "decreased",
    "more": "fewer",
    "best": "worst",
    "longest": "shortest",
    "major": "minor",
    "maximum": "minimum",
    "older": "younger",
    "win": "lose",
    "won": "lost",
    "start": "end",
    "began": "ended",
    "top": "bottom",
    "inside": "outside",
    "upper": "lower",
    "northern": "southern",
    "eastern": "western",
    "private": "public",
    "modern": "ancient",
}
ANTONYMS |= {b: a for a, b in list(ANTONYMS.items()) if b not in ANTONYMS}

# an auxiliary after the question word, which "not" can follow: "What was not ..."
_AUX = re.compile(
    r"^(\W*\w+(?:\s+\w+){0,2}?\s+)(is|was|are|were|did|does|do|can|could|has|have|had|will|would)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(not|never|no|n't|none|neither|nor|without)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d{1,4}\b")
KINDS = ("entity", "number", "antonym", "negation")
ENTITY_LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "WORK_OF_ART", "DATE"}


@dataclass(frozen=True)
class Negative:
    question: str
    kind: str  # one of KINDS


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def swap_number(question: str, paragraph: str, rng: random.Random) -> str | None:
    """A number of the question replaced by a nearby one the paragraph does not hold."""
    numbers = [m for m in _NUMBER.finditer(question)]
    rng.shuffle(numbers)
    for m in numbers:
        value = int(m.group())
        for delta in rng.sample([-3, -2, -1, 1, 2, 3, 5, 10], 8):
            new = value + delta
            if new > 0 and not re.search(rf"\b{new}\b", paragraph):
                return question[: m.start()] + str(new) + question[m.end() :]
    return None


def swap_entity(
    question: str, entities: Sequence[tuple[str, str]], pool: dict[str, list[str]],
    paragraph: str, rng: random.Random,
) -> str | None:  # fmt: skip
    """A name of the question replaced by another of the same kind from the same article,
    one the paragraph never mentions."""
    candidates = [(t, label) for t, label in entities if label in ENTITY_LABELS and t in question]
    rng.shuffle(candidates)
    lowered = paragraph.lower()
    for text, label in candidates:
        others = [o for o in pool.get(label, []) if o != text and o.lower() not in lowered]
        if others:
            return question.replace(text, rng.choice(others), 1)
    return None


def swap_antonym(question: str, paragraph: str, rng: random.Random) -> str | None:
    words = [m for m in re.finditer(r"[A-Za-z]+", question) if m.group().lower() in ANTONYMS]
    rng.shuffle(words)
    held = _words(paragraph)
    for m in words:
        new = ANTONYMS[m.group().lower()]
        if new not in held:
            if m.group()[0].isupper():
                new = new.capitalize()
            return question[: m.start()] + new + question[m.end() :]
    return None


def negate(question: str, evidence: str) -> str | None:
    """ "What was ..." -> "What was not ...", when neither holds a negation already."""
    if _NEGATION.search(question) or _NEGATION.search(evidence):
        return None
    m = _AUX.match(question)
    if not m:
        return None
    return question[: m.end()] + " not" + question[m.end() :]


def negatives(
    question: str, evidence: str, paragraph: str,
    entities: Sequence[tuple[str, str]], pool: dict[str, list[str]], rng: random.Random,
) -> list[Negative]:  # fmt: skip
    """Every kind of edit that applies to this question, checked as described above, in a
    random order with negation last. ``entities`` are the question's (text, spaCy label);
    ``pool`` the article's names by label (``name_pool``)."""
    made = {
        "entity": swap_entity(question, entities, pool, paragraph, rng),
        "number": swap_number(question, paragraph, rng),
        "antonym": swap_antonym(question, paragraph, rng),
        "negation": negate(question, evidence),
    }
    out = [Negative(q, kind) for kind, q in made.items() if q and q != question]
    # in a random order, but negation, which applies to most questions, last: it is 9% of
    # SQuAD 2.0's unanswerable questions, against a fifth each for swapped names and antonyms
    rng.shuffle(out)
    out.sort(key=lambda neg: neg.kind == "negation")
    return out


def name_pool(named: Iterable[tuple[str, Iterable[tuple[str, str]]]]) -> dict[str, dict]:
    """The names to swap in, per group (an article): ``named`` gives each question's group
    and its (name, spaCy label) pairs; the pool holds each group's names by label."""
    pool: dict[str, dict[str, set[str]]] = {}
    for group, entities in named:
        for text, label in entities:
            pool.setdefault(group, {}).setdefault(label, set()).add(text)
    return {g: {label: sorted(v) for label, v in kinds.items()} for g, kinds in pool.items()}


def look_alike_items(
    items: Sequence[QAItem], doc_texts: dict[str, str], share: float, seed: int
) -> list[QAItem]:
    """Unanswerable look-alikes of ``share`` of the answerable ``items`` whose document is in
    ``doc_texts`` (one each, of the first kind that applies after a shuffle; names swapped
    from the other questions of the same group), with ``answers: []``."""
    from qa.readers.phrases import _nlp

    rng = random.Random(seed)
    answerable = [i for i in items if i.answers and i.doc in doc_texts]
    chosen = rng.sample(answerable, round(share * len(answerable)))
    nlp = _nlp()
    group = lambda item: item.doc.split("__")[0]
    docs = nlp.pipe((i.question for i in answerable), batch_size=256)
    parsed = {
        item.id: [(e.text, e.label_) for e in doc.ents] for item, doc in zip(answerable, docs)
    }
    pool = name_pool((group(item), parsed[item.id]) for item in answerable)
    out = []
    for item in chosen:
        names = pool.get(group(item), {})
        made = negatives(
            item.question, item.evidence, doc_texts[item.doc], parsed[item.id], names, rng
        )
        if made:
            out.append(
                QAItem(f"{item.id}-lookalike", made[0].question, (), item.doc, item.evidence)
            )
    return out
