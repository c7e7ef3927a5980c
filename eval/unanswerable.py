"""Calibration data for abstention: turn a share of answerable questions into
unanswerable ones by leaving their gold paragraphs out of the indexed collection.

Leaving a paragraph out makes all of its questions unanswerable, so paragraphs are
chosen, not questions, and only paragraphs none of whose questions' gold answers occur
in any other document: otherwise the "unanswerable" question could still be answered
from elsewhere."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eval.data import QAItem
from eval.metrics import normalize_answer


@dataclass(frozen=True)
class Exclusion:
    docs: frozenset[str]
    items: list[QAItem]  # the Q&A set with the excluded docs' questions made unanswerable
    unanswerable: int  # questions made unanswerable
    candidates: int  # paragraphs that could have been left out

    @property
    def ids(self) -> set[str]:
        return {item.id for item in self.items if item.doc in self.docs}


def _occurs_elsewhere(
    answer: str, own_doc: str, lowered: Mapping[str, str], normalized: Mapping[str, str], postings
) -> bool:
    """Found in another document as normalised whole tokens, or as a raw case-insensitive
    substring ("Tanzania" in "Tanzania's"): erring towards "found" keeps the
    calibration questions truly unanswerable."""
    needle = normalize_answer(answer)
    if not needle:
        return True  # nothing to look for: not safe to call it unanswerable
    docs = set.intersection(*(postings.get(t, set()) for t in needle.split()))
    if any(doc != own_doc and f" {needle} " in normalized[doc] for doc in docs):
        return True
    raw = answer.lower()
    return any(doc != own_doc and raw in text for doc, text in lowered.items())


def candidate_docs(items: Sequence[QAItem], doc_texts: Mapping[str, str]) -> list[str]:
    """Documents with answerable questions, none of whose answers occur in another document."""
    lowered = {doc: text.lower() for doc, text in doc_texts.items()}
    normalized = {doc: f" {normalize_answer(text)} " for doc, text in doc_texts.items()}
    postings: dict[str, set[str]] = defaultdict(set)
    for doc, text in normalized.items():
        for token in set(text.split()):
            postings[token].add(doc)
    by_doc: dict[str, list[QAItem]] = defaultdict(list)
    for item in items:
        by_doc[item.doc].append(item)
    return sorted(
        doc
        for doc, questions in by_doc.items()
        if doc in doc_texts
        and all(q.answerable for q in questions)
        and not any(
            _occurs_elsewhere(a, doc, lowered, normalized, postings)
            for q in questions
            for a in q.answers
        )
    )


def make_unanswerable(
    items: Sequence[QAItem], doc_texts: Mapping[str, str], target_share: float, seed: int
) -> Exclusion:
    """Leave out randomly chosen candidate paragraphs until at least ``target_share`` of
    the questions have lost their gold paragraph (or the candidates run out)."""
    if not 0 < target_share < 1:
        raise ValueError("--unanswerable-share must be between 0 and 1")
    candidates = candidate_docs(items, doc_texts)
    random.Random(seed).shuffle(candidates)
    per_doc: dict[str, int] = defaultdict(int)
    for item in items:
        per_doc[item.doc] += 1
    target = target_share * len(items)
    chosen: set[str] = set()
    count = 0
    for doc in candidates:
        if count >= target:
            break
        chosen.add(doc)
        count += per_doc[doc]
    new_items = [item.unanswerable() if item.doc in chosen else item for item in items]
    return Exclusion(frozenset(chosen), new_items, count, len(candidates))
