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
    -> "Who censored kissing scenes?" -> "Who censored talking scenes?"    (word)
    -> "Spectre is the twenty-fourth Bond film" -> "... thirty-fourth ..."  (ordinal)

A word the question shares with its evidence sentence is swapped for another of the same
part of speech from the article's other questions (SQuAD 2.0's "other neutral" edits, 24%,
are mostly such one-word changes), and a name for one from another article when its own
has none the paragraph lacks (crowdworkers brought in outside names: "The Boston Observer"
for "The Charlotte Observer"). The kind made is drawn with SQuAD 2.0's shares (``SHARES``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eval.data import QAItem, group_name

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
# a number, also inside a token ("MI6", "24th"), not part of a longer one ("1,500")
_NUMBER = re.compile(r"(?<![\d,.])\d{1,4}(?![\d]|[,.]\d)")
KINDS = ("entity", "number", "antonym", "negation", "word", "ordinal")
# how often each kind is drawn when several apply: SQuAD 2.0's shares of its unanswerable
# questions (entity swap 21%, of which numbers are some; antonym 20%; other neutral 24%;
# negation 9%); ordinals are a kind of number
SHARES = {"entity": 15, "number": 6, "antonym": 20, "word": 24, "negation": 9, "ordinal": 3}
# the parts of speech (Penn tags) a word swap may replace: nouns, verbs, adjectives
WORD_TAGS = frozenset({"NN", "NNS", "VB", "VBD", "VBG", "VBN", "VBP", "VBZ", "JJ"})
_UNITS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINAL = re.compile(rf"\b({'|'.join(_TENS)})-({'|'.join(_UNITS)})\b", re.IGNORECASE)
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
    paragraph: str, rng: random.Random, outside: dict[str, list[str]] | None = None,
) -> str | None:  # fmt: skip
    """A name of the question replaced by another of the same kind from the same article,
    one the paragraph never mentions (from ``outside``, other articles' names, when the
    article has none)."""
    candidates = [(t, label) for t, label in entities if label in ENTITY_LABELS and t in question]
    rng.shuffle(candidates)
    lowered = paragraph.lower()
    for names in (pool, outside or {}):
        for text, label in candidates:
            others = [o for o in names.get(label, []) if o != text and o.lower() not in lowered]
            if others:
                return question.replace(text, rng.choice(others), 1)
    return None


def swap_word(
    question: str, words: Sequence[tuple[str, str]], pool: dict[str, list[str]],
    evidence: str, paragraph: str, rng: random.Random,
) -> str | None:  # fmt: skip
    """A noun, verb or adjective the question shares with its evidence sentence replaced
    by another of the same tag (``pool``: the article's by tag), one the paragraph does not
    hold. ``words``: the question's content words with their tags."""
    shared = _words(evidence)
    held = _words(paragraph)
    candidates = [(w, tag) for w, tag in words if tag in WORD_TAGS and w.lower() in shared]
    rng.shuffle(candidates)
    for word, tag in candidates:
        others = [o for o in pool.get(tag, []) if o.lower() not in held]
        m = re.search(rf"\b{re.escape(word)}\b", question)
        if others and m:
            return question[: m.start()] + rng.choice(others) + question[m.end() :]
    return None


def swap_ordinal(question: str, paragraph: str, rng: random.Random) -> str | None:
    """ "twenty-fourth" -> "thirty-fourth": the tens of a spelled ordinal changed to ones
    the paragraph does not hold."""
    m = _ORDINAL.search(question)
    if not m:
        return None
    held = paragraph.lower()
    for tens in rng.sample(_TENS, len(_TENS)):
        new = f"{tens}-{m.group(2).lower()}"
        if tens != m.group(1).lower() and new not in held:
            if m.group()[0].isupper():
                new = new.capitalize()
            return question[: m.start()] + new + question[m.end() :]
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
    words: Sequence[tuple[str, str]] = (), word_pool: dict[str, list[str]] | None = None,
    outside: dict[str, list[str]] | None = None,
) -> list[Negative]:  # fmt: skip
    """Every kind of edit that applies to this question, checked as described above, in a
    random order drawn with ``SHARES`` (the first is the likeliest to be a common kind).
    ``entities`` are the question's (text, spaCy label); ``pool`` the article's names by
    label and ``outside`` other articles' (``name_pool``); ``words`` the question's content
    words (text, Penn tag) and ``word_pool`` the article's by tag (``word_pool``)."""
    made = {
        "entity": swap_entity(question, entities, pool, paragraph, rng, outside),
        "number": swap_number(question, paragraph, rng),
        "antonym": swap_antonym(question, paragraph, rng),
        "negation": negate(question, evidence),
        "word": swap_word(question, words, word_pool or {}, evidence, paragraph, rng),
        "ordinal": swap_ordinal(question, paragraph, rng),
    }
    out = [Negative(q, kind) for kind, q in made.items() if q and q != question]
    # a weighted random order (Efraimidis and Spirakis): negation, which applies to most
    # questions, comes first only as often as its share allows
    keys = {n.kind: rng.random() ** (1.0 / SHARES[n.kind]) for n in out}
    return sorted(out, key=lambda n: -keys[n.kind])


def name_pool(named: Iterable[tuple[str, Iterable[tuple[str, str]]]]) -> dict[str, dict]:
    """The names to swap in, per group (an article): ``named`` gives each question's group
    and its (name, spaCy label) pairs; the pool holds each group's names by label."""
    pool: dict[str, dict[str, set[str]]] = {}
    for group, entities in named:
        for text, label in entities:
            pool.setdefault(group, {}).setdefault(label, set()).add(text)
    return {g: {label: sorted(v) for label, v in kinds.items()} for g, kinds in pool.items()}


def word_pool(tagged: Iterable[tuple[str, Iterable[tuple[str, str]]]]) -> dict[str, dict]:
    """The words to swap in, per group: each question's group and its (word, tag) pairs;
    the pool holds each group's content words by tag, lowercased."""
    pool: dict[str, dict[str, set[str]]] = {}
    for group, words in tagged:
        for text, tag in words:
            if tag in WORD_TAGS:
                pool.setdefault(group, {}).setdefault(tag, set()).add(text.lower())
    return {g: {tag: sorted(v) for tag, v in tags.items()} for g, tags in pool.items()}


def content_words(doc) -> list[tuple[str, str]]:
    """A parsed question's words that a swap may replace: (text, Penn tag), no stop words."""
    return [(t.text, t.tag_) for t in doc if t.is_alpha and not t.is_stop and len(t.text) > 2]


def look_alike_items(
    items: Sequence[QAItem], doc_texts: dict[str, str], share: float, seed: int
) -> list[QAItem]:
    """Unanswerable look-alikes of ``share`` of the answerable ``items`` whose document is in
    ``doc_texts`` (one each, of the kind drawn first, ``negatives``; names and words swapped in
    from the other questions of the same group), with ``answers: []``."""
    from qa.read.readers.phrases import _nlp

    rng = random.Random(seed)
    answerable = [i for i in items if i.answers and i.doc in doc_texts]
    chosen = rng.sample(answerable, round(share * len(answerable)))
    nlp = _nlp()
    group = lambda item: group_name(item.doc)
    docs = nlp.pipe((i.question for i in answerable), batch_size=256)
    parsed, tagged = {}, {}
    for item, doc in zip(answerable, docs):
        parsed[item.id] = [(e.text, e.label_) for e in doc.ents]
        tagged[item.id] = content_words(doc)
    pool = name_pool((group(item), parsed[item.id]) for item in answerable)
    outside = name_pool(("all", parsed[item.id]) for item in answerable).get("all", {})
    words = word_pool((group(item), tagged[item.id]) for item in answerable)
    out = []
    for item in chosen:
        names = pool.get(group(item), {})
        made = negatives(
            item.question, item.evidence, doc_texts[item.doc], parsed[item.id], names, rng,
            tagged[item.id], words.get(group(item), {}), outside,
        )  # fmt: skip
        if made:
            out.append(
                QAItem(f"{item.id}-lookalike", made[0].question, (), item.doc, item.evidence)
            )
    return out
