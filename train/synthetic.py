"""Synthetic questions from documents, for training the cross-encoder on more than the
hand-written questions (``python -m train.train_cross --synthetic N``).

Cloze-to-question rewriting (after Lewis et al., 2019, "Unsupervised Question Answering
by Cloze Translation"): in a sentence, a named entity, number or date is the answer; the
clause around it, without the answer, the words that led to it ("in", "by") and the asides
that do not bear on it (appositions, relative clauses), follows a question word chosen by
the answer's kind. "The biennial AV Festival of international electronic art is held in
March." gives "When the biennial AV Festival of international electronic art is held?"
with the answer "March" - rough English (no inversion), but the question's words point
at its sentence as a real question's do, and the answer's kind is the one its question
word asks for."""

from __future__ import annotations

import random
from collections.abc import Iterable

from eval.data import QAItem

# the question word for each kind of spaCy entity
WH = {
    "PERSON": "Who",
    "NORP": "Which group",
    "ORG": "Which organization",
    "GPE": "Where",
    "LOC": "Where",
    "FAC": "Which place",
    "DATE": "When",
    "TIME": "When",
    "CARDINAL": "How many",
    "QUANTITY": "How much",
    "MONEY": "How much money",
    "PERCENT": "What percentage",
    "ORDINAL": "Which",
    "EVENT": "Which event",
    "WORK_OF_ART": "What work",
    "LAW": "Which law",
    "PRODUCT": "What",
    "LANGUAGE": "Which language",
}
# clauses and asides left out of the question when they do not hold the answer
ASIDES = {"appos", "relcl", "parataxis", "advcl"}
MIN_WORDS, MAX_WORDS = 5, 24


def _clause(ent):
    """The head of the smallest clause (a verb's subtree) that holds the entity."""
    head = ent.root
    while head.head.i != head.i and head.pos_ not in ("VERB", "AUX"):
        head = head.head
    # a clause too short to say what is asked (a participle, "including ..."): the sentence's
    while head.head.i != head.i and len(list(head.subtree)) < 2 * MIN_WORDS:
        head = head.head
    return head


def rewrite(ent) -> str | None:
    """A question whose answer is ``ent`` (a spaCy entity span), or None."""
    verb = _clause(ent)
    answer = set(range(ent.start, ent.end))
    # the word that led to the answer ("in 1964", "by Tesla") goes with it
    if ent.root.head.dep_ in ("prep", "agent") and ent.root.head.i == ent.start - 1:
        answer.add(ent.start - 1)
    dropped = set(answer)
    for child in verb.subtree:
        if child.i in dropped or child.i == verb.i:
            continue
        if child.dep_ in ASIDES and not any(t.i in answer for t in child.subtree):
            dropped |= {t.i for t in child.subtree}
    kept = [t for t in verb.subtree if t.i not in dropped and not t.is_punct]
    if not (MIN_WORDS <= len(kept) <= MAX_WORDS):
        return None
    words = [t.text_with_ws for t in kept]
    if kept[0].pos_ != "PROPN" and kept[0].text != "I":
        words[0] = words[0][:1].lower() + words[0][1:]
    return f"{WH[ent.label_]} {' '.join(''.join(words).split())}?"


def questions(sentences: Iterable[tuple[str, str]], per_sentence: int, seed: int) -> list[QAItem]:
    """Up to ``per_sentence`` synthetic questions for each (document id, sentence)."""
    from qa.read.readers.phrases import _nlp

    rng = random.Random(seed)
    nlp = _nlp()
    pairs = list(sentences)
    out: list[QAItem] = []
    for (doc_id, text), parsed in zip(pairs, nlp.pipe([t for _, t in pairs], batch_size=64)):
        ents = [e for e in parsed.ents if e.label_ in WH and len(e.text) > 1]
        rng.shuffle(ents)
        made = 0
        for ent in ents:
            if made >= per_sentence:
                break
            q = rewrite(ent)
            if q is None:
                continue
            out.append(QAItem(f"synthetic-{len(out)}", q, (ent.text,), doc_id, text))
            made += 1
    return out
