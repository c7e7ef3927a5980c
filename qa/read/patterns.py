"""Typed spans found by pattern: the numbers, dates and names of a sentence, whether it
holds one of the type a question asks for, and the nearest such span to the words the
question and the sentence share (never a repeat of the question): the labels the fitted
readers were trained on, and the grounding's second choice of a short answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.tokens import STOP_WORDS, terms, words
from qa.read.question import Question

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|a hundred|dozen|a dozen|several|half)"
)
_SCALE = r"(?:\s?(?:%|percent|per cent|million|billion|trillion|thousand|hundred))*"
_NUMBER = re.compile(
    rf"(?:[$£€¥]\s?)?\b(?:\d[\d,]*(?:\.\d+)?|{_NUMBER_WORD}(?:[- ]{_NUMBER_WORD})*)\b{_SCALE}",
    re.IGNORECASE,
)
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s*(?:-|–|to)\s*\d{{1,2}})?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}"
    r"|(?:the\s+)?(?:early|mid|late)?-?\s?\d{3,4}s"
    r"|\d{1,2}(?:st|nd|rd|th) century"
    r"|(?:1[0-9]{3}|20[0-9]{2})(?:\s*(?:-|–|to)\s*(?:1[0-9]{3}|20[0-9]{2}|\d{2}))?"
    r"|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|(?:last|next|this)\s+(?:year|month|week))\b",
)
_LOWER_JOIN = r"(?:of|the|de|la|von|van|du|and|for|in|on|upon)"
_NAME = re.compile(
    rf"\b[A-Z][\w’'\-.]*(?:\s+(?:{_LOWER_JOIN}\s+)*[A-Z][\w’'\-.]*)*",
)
_PHRASE_STOP = re.compile(r"[,;:()“”\"—–]|\s-\s|\b(?:which|that|who|because|while|and|but)\b")


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    kind: str


def candidates(sentence: str, kind: str) -> list[Candidate]:
    patterns = {
        "number": [(_NUMBER, "number")],
        "date": [(_DATE, "date")],
        "person": [(_NAME, "name")],
        "place": [(_NAME, "name")],
        "other": [(_NAME, "name"), (_NUMBER, "number"), (_DATE, "date")],
    }[kind]
    found = []
    for pattern, label in patterns:
        for m in pattern.finditer(sentence):
            start, end = _strip(sentence, m.start(), m.end())
            if end > start:
                found.append(Candidate(start, end, label))
    return found


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in ".,;:"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:’'"):
        end -= 1
    # a leading article or preposition is not part of a name
    m = re.match(r"(?:The|A|An|In|On|At|By|Of)\s+", text[start:end])
    if m and end - start > m.end():
        start += m.end()
    return start, end


def _phrases(sentence: str) -> list[Candidate]:
    """Fallback for "what"/"why" questions: clauses between punctuation and connectives."""
    out, last = [], 0
    for m in list(_PHRASE_STOP.finditer(sentence)) + [None]:
        stop = m.start() if m else len(sentence)
        start, end = _strip(sentence, last, stop)
        if end > start:
            out.append(Candidate(start, end, "phrase"))
        last = m.end() if m else stop
    return out


def _novel(question: str, text: str) -> bool:
    """Whether ``text`` says something the question does not already say."""
    q_terms = set(terms(question))
    q_words = set(words(question))
    cw = [w for w in words(text) if w not in STOP_WORDS]
    return bool(cw) and not all(
        w in q_words or t in q_terms for w, t in zip(cw, terms(" ".join(cw)))
    )


def has_typed_candidate(question: Question, sentence: str) -> bool:
    """Whether the sentence holds a new span of the type the question asks for."""
    if question.kind == "other":
        return True
    return any(
        _novel(question.text, sentence[c.start : c.end])
        for c in candidates(sentence, question.kind)
    )


def short_answer(asked: Question, sentence: str) -> tuple[int, int] | None:
    """Offsets of the nearest typed span inside ``sentence``, or None if no span fits."""
    question, kind = asked.text, asked.kind
    q_terms = set(terms(question))
    anchors = _anchor_positions(sentence, q_terms)

    def novel(c: Candidate) -> bool:
        return _novel(question, sentence[c.start : c.end])

    pool = [c for c in candidates(sentence, kind) if novel(c)]
    if not pool and kind == "other":
        pool = [c for c in _phrases(sentence) if novel(c)]
        pool = [_trim_phrase(sentence, c, q_terms) for c in pool]
        pool = [c for c in pool if c.end > c.start]
    if not pool:
        return None

    def distance(c: Candidate) -> float:
        if not anchors:
            return c.start / 10
        return min(min(abs(a - c.start), abs(a - c.end)) for a in anchors)

    best = min(pool, key=lambda c: (distance(c), c.start))
    return best.start, best.end


def _anchor_positions(sentence: str, q_terms: set[str]) -> list[int]:
    positions = []
    for m in re.finditer(r"[^\W_]+", sentence):
        if terms(m.group()) and terms(m.group())[0] in q_terms:
            positions.append(m.start())
    return positions


def _trim_phrase(sentence: str, c: Candidate, q_terms: set[str], max_words: int = 8) -> Candidate:
    """Drop question words from the edges of a clause and cap its length."""
    tokens = list(re.finditer(r"\S+", sentence[c.start : c.end]))

    def is_q(tok: re.Match) -> bool:
        t = terms(tok.group())
        return not t or t[0] in q_terms

    while tokens and is_q(tokens[0]):
        tokens.pop(0)
    while tokens and is_q(tokens[-1]):
        tokens.pop()
    # inside the clause, keep the run after the last question word
    for k in range(len(tokens) - 1, -1, -1):
        if is_q(tokens[k]) and k + 1 < len(tokens):
            tokens = tokens[k + 1 :]
            break
    tokens = tokens[:max_words]
    if not tokens:
        return Candidate(c.start, c.start, "phrase")
    start, end = _strip(sentence, c.start + tokens[0].start(), c.start + tokens[-1].end())
    return Candidate(start, end, "phrase")
