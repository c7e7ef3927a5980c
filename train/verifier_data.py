"""What the answerability verifier (qa/read/verify.py) learns from: SQuAD 2.0's real
unanswerable questions read on the window around the sentence a careless reader would
answer from, beside the answerable question each was written from on the same window;
SQuAD 1.1 train questions on their answer's window; and some of those on the window of
the most similar sentence of another paragraph of their article (what a question looks
like to the service when its paragraph is not in the documents).

An example is (question, window text, the answer's characters in it or None, answerable).
Examples come in groups (an unanswerable question and its twin; a question and its other
paragraph's window) that train.train_verifier keeps in one batch."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from index.split import split_sentences
from index.tokens import terms
from qa.read.verify import window
from train.keywords import short_question
from train.same_words import NAMED, counted, reverse_names, swap_counted


@dataclass(frozen=True)
class Example:
    question: str
    text: str
    span: tuple[int, int] | None  # the answer's characters in ``text``
    answerable: bool
    # or "short" (shortened), "elsewhere" (another paragraph's window), "reversed" or
    # "counted" (train/same_words.py)
    kind: str = "asked"


@lru_cache(maxsize=4096)
def _sentences(context: str) -> tuple[tuple[int, int], ...]:
    return tuple((s.start, s.end) for s in split_sentences(context))


def _holding(context: str, at: int) -> int:
    """The index of the sentence of ``context`` holding character ``at``."""
    return next((k for k, (s, e) in enumerate(_sentences(context)) if s <= at < e), 0)


def sentence_at(context: str, at: int) -> str:
    """The sentence of ``context`` holding character ``at``."""
    return context[slice(*_sentences(context)[_holding(context, at)])]


def around(context: str, at: int) -> tuple[int, int]:
    """The window (characters of ``context``) around the sentence holding character ``at``."""
    return window(_sentences(context), _holding(context, at))


def shortened(example: Example, context: str, at: int, rng: random.Random) -> Example | None:
    """A keyword-style version of an answerable example's question (train/keywords.py), on
    the same window with the same answer: dropping words keeps a question answered, which
    the look-alikes alone would unteach ("How many troops were shipped?")."""
    sentence = sentence_at(context, at)
    made = short_question(example.question, sentence, rng)
    return None if made is None else Example(made, example.text, example.span, True, "short")


def on_window(question: str, context: str, at: int, answer: str | None) -> Example:
    """``question`` read on the window around character ``at`` of ``context``; answered by
    ``answer`` (starting at ``at``) or, with None, unanswerable there."""
    start, end = around(context, at)
    text = context[start:end]
    if answer is None:
        return Example(question, text, None, False)
    span = (at - start, at - start + len(answer))
    return Example(question, text, span if span[1] <= len(text) else None, True)


def _words(text: str) -> set[str]:
    return set(terms(text))


def elsewhere(question: str, paragraph: dict, siblings: list[dict]) -> Example | None:
    """``question`` read on the window of the sentence most like it in another paragraph of
    its article (unanswerable there); None when the article has no other paragraph."""
    others = [p for p in siblings if p["para_index"] != paragraph["para_index"]]
    if not others:
        return None
    asked = _words(question)
    best = max(others, key=lambda p: len(asked & _words(p["context"])))
    spans = _sentences(best["context"])
    i = max(range(len(spans)), key=lambda k: len(asked & _words(best["context"][slice(*spans[k])])))
    start, end = window(spans, i)
    return Example(question, best["context"][start:end], None, False, "elsewhere")


def same_words(
    pool: list[tuple[dict, dict]], reversed_n: int, counted_n: int, seed: int
) -> list[list[Example]]:
    """Up to ``reversed_n`` answerable questions of ``pool`` (paragraph, question) with their
    names reversed and ``counted_n`` with the thing they count swapped (train/same_words.py),
    each in a group with the question as asked, all on the answer's window."""
    rng = random.Random(seed + 3)
    things: dict[str, set[str]] = defaultdict(set)
    for p, qa in pool:
        if (thing := counted(qa["question"])) is not None:
            things[p["title"]].add(thing)
    # spaCy's names of the questions that have two names to reverse (``reverse_names``)
    named: dict[str, set[str]] = {}
    if reversed_n:
        from qa.read.readers.phrases import _nlp

        asked = [
            qa["question"]
            for p, qa in pool
            if reverse_names(qa["question"], sentence_at(p["context"], qa["answer_start"]))
        ]
        for question, doc in zip(asked, _nlp().pipe(asked, batch_size=256)):
            named[question] = {e.text for e in doc.ents if e.label_ in NAMED}
    out: list[list[Example]] = []
    made = {"reversed": 0, "counted": 0}
    wanted = {"reversed": reversed_n, "counted": counted_n}
    for p, qa in rng.sample(pool, len(pool)):
        if made == wanted:
            break
        question = qa["question"]
        # only questions with two names to reverse or a thing counted are read further
        reversible = made["reversed"] < reversed_n and question in named
        countable = made["counted"] < counted_n and bool(counted(question))
        if not (reversible or countable):
            continue
        context, at = p["context"], qa["answer_start"]
        answered = on_window(question, context, at, qa["answer"])
        if reversible:
            names = named[question]
            if (q := reverse_names(question, sentence_at(context, at), names)) is not None:
                out.append([answered, Example(q, answered.text, None, False, "reversed")])
                made["reversed"] += 1
                continue
        if countable:
            others = sorted(things[p["title"]])
            rng.shuffle(others)
            if (q := swap_counted(question, answered.text, others)) is not None:
                out.append([answered, Example(q, answered.text, None, False, "counted")])
                made["counted"] += 1
    return out


def groups(
    paragraphs: list[dict],
    unanswerable: dict[tuple[str, int], list[dict]],
    skip: set[str],
    answerable: int,
    elsewhere_share: float,
    seed: int,
    short_share: float = 0.0,
    reversed_n: int = 0,
    counted_n: int = 0,
) -> list[list[Example]]:
    """The example groups of every article but ``skip``'s: each unanswerable question with
    its twin, then ``answerable`` SQuAD 1.1 questions at random, ``elsewhere_share`` of them
    also on another paragraph's window; ``short_share`` of the answerable ones also come
    shortened (``shortened``) in their group; then the same-word look-alikes of
    ``same_words``."""
    rng = random.Random(seed)
    short_rng = random.Random(seed + 2)

    def short(example: Example, context: str, at: int) -> list[Example]:
        if short_share and short_rng.random() < short_share:
            made = shortened(example, context, at, short_rng)
            return [] if made is None else [made]
        return []

    by_key = {(p["title"], p["para_index"]): p for p in paragraphs}
    by_title: dict[str, list[dict]] = defaultdict(list)
    for p in paragraphs:
        by_title[p["title"]].append(p)
    out: list[list[Example]] = []
    twins_used = set()
    for key in sorted(unanswerable):
        if key[0] in skip or key not in by_key:
            continue
        p = by_key[key]
        for qa in unanswerable[key]:
            plausible = qa["plausible_answers"][0]
            group = [on_window(qa["question"], p["context"], plausible["answer_start"], None)]
            twin_text = qa["paired_answerable_question"].strip()
            twin = next((t for t in p["qas"] if t["question"].strip() == twin_text), None)
            if twin is not None:
                twins_used.add((*key, twin_text))
                answered = on_window(
                    twin["question"], p["context"], twin["answer_start"], twin["answer"]
                )
                group += [answered, *short(answered, p["context"], twin["answer_start"])]
            out.append(group)
    pool = [
        (p, qa)
        for p in paragraphs
        if p["title"] not in skip
        for qa in p["qas"]
        if (p["title"], p["para_index"], qa["question"].strip()) not in twins_used
    ]
    for p, qa in rng.sample(pool, min(answerable, len(pool))):
        answered = on_window(qa["question"], p["context"], qa["answer_start"], qa["answer"])
        group = [answered, *short(answered, p["context"], qa["answer_start"])]
        if rng.random() < elsewhere_share:
            other = elsewhere(qa["question"], p, by_title[p["title"]])
            if other is not None:
                group.append(other)
        out.append(group)
    if reversed_n or counted_n:
        out += same_words(pool, reversed_n, counted_n, seed)
    return out
