"""Grounding a model's reply in the sentences it was shown.

Every sentence of the reply (a claim) is checked against the sources it cites: its numbers
must all appear there, most of its content words must, and its meaning must be close to
theirs (embedding similarity). A claim citing the wrong source or none is attributed to the
one source that supports it, if any; a claim no source supports is removed, never shown as
cited. The short answer is a verbatim span of a supporting source that the model itself
stated. A reply with no supported claim, or whose answer cannot be found verbatim, is not
grounded: the caller falls back to the extractive answer and says so."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embed import Embedder
from index.split import split_sentences
from index.tokens import STOP_WORDS, terms
from qa.read.answer import Citation
from qa.read.patterns import candidates, short_answer
from qa.read.question import Question
from qa.read.readers.phrases import best_phrase

MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][\w'’-]*")
# words a reply uses about itself rather than about the world
_FILLER = frozenset(terms("answer according source sources sentence sentences document text"))
_DECLINE = re.compile(
    r"\b(?:i don'?t know|i do not know|(?:is|are|was|were) not (?:mentioned|stated|given|"
    r"specified|provided)|(?:do|does) not (?:say|mention|specify|state|answer)|"
    r"no information|cannot (?:be )?(?:answer|determine))",
    re.IGNORECASE,
)
MAX_ANSWER_WORDS = 8


# A retrieved sentence as the model saw it, ``[n] text``: the fields of a citation.
Source = Citation


@dataclass(frozen=True)
class Claim:
    text: str  # the reply's sentence without its markers
    sources: tuple[int, ...]  # numbers of the sources that support it


@dataclass(frozen=True)
class Grounding:
    claims: tuple[Claim, ...]  # the supported claims, in reply order
    unsupported: tuple[str, ...]  # claims removed because no source supports them
    dropped_markers: tuple[int, ...]  # markers that pointed at no source
    answer: tuple[int, int, int] | None  # (source n, start, end) of the short answer
    declined: bool  # the model said the sources do not answer

    @property
    def grounded(self) -> bool:
        return bool(self.claims) and self.answer is not None


@dataclass(frozen=True)
class Thresholds:
    lexical: float = 0.6  # share of the claim's content terms found in its sources
    semantic: float = 0.45  # cosine between the claim (read with the question) and a source


DEFAULT_THRESHOLDS = Thresholds()


def split_claims(reply: str) -> list[tuple[str, list[int]]]:
    """The reply's sentences, each without markers, with the numbers it cited. A marker
    placed after the full stop ("... Russia. [1]") belongs to the sentence before it."""
    pieces = [reply[s.start : s.end] for s in split_sentences(reply)]
    claims: list[tuple[str, list[int]]] = []
    for piece in pieces:
        lead = _LEADING_MARKERS.match(piece)
        if lead and claims:
            claims[-1][1].extend(_numbers_in(lead.group()))
            piece = piece[lead.end() :]
        marks = _numbers_in(piece)
        text = MARKER.sub("", piece)
        text = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()
        if text and any(ch.isalnum() for ch in text):
            claims.append((text, marks))
        elif claims:
            claims[-1][1].extend(marks)
    seen: set[str] = set()
    unique = []
    for text, marks in claims:  # small models repeat themselves
        if text.lower() not in seen:
            seen.add(text.lower())
            unique.append((text, marks))
    return unique


def _numbers_in(text: str) -> list[int]:
    return [int(n) for m in MARKER.finditer(text) for n in re.findall(r"\d+", m.group(1))]


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _names(text: str) -> set[str]:
    """Terms of capitalised words inside the text: names, which must not be invented."""
    return {t for m in _NAME.finditer(text) for t in terms(m.group())}


def _name_in(name: str, have: set[str]) -> bool:
    """A name is there if a source term shares its stem ("Korean" for "Korea")."""
    if name in have:
        return True
    return any(
        min(len(name), len(t)) >= 4 and (name.startswith(t) or t.startswith(name)) for t in have
    )


def ground(
    asked: Question,
    reply: str,
    sources: list[Source],
    embedder: Embedder,
    source_vectors: np.ndarray,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Grounding:
    """``source_vectors[i]`` is the unit vector of ``sources[i]``."""
    question = asked.text
    by_n = {s.n: i for i, s in enumerate(sources)}
    parsed = [(t, m) for t, m in split_claims(reply) if not t.endswith("?")]
    dropped = sorted({m for _, marks in parsed for m in marks if m not in by_n})
    # a bare "1,500" means nothing alone: each claim is also read after the question
    texts = [t for t, _ in parsed] + [f"{question} {t}" for t, _ in parsed]
    encoded = embedder.encode(texts) if parsed else np.zeros((0, 1))
    vectors = list(zip(encoded[: len(parsed)], encoded[len(parsed) :]))
    source_terms = [set(terms(s.text)) for s in sources]
    source_numbers = [_numbers(s.text) for s in sources]

    def support(text: str, vector: tuple[np.ndarray, ...], rows: list[int]) -> float | None:
        """How well the sources ``rows`` support the claim together, or None if they don't:
        every number and name must be there, most other words, and the meaning."""
        content = set(terms(text)) - _FILLER
        if not rows or not content:
            return None
        have = set().union(*(source_terms[r] for r in rows))
        if not _numbers(text) <= set().union(*(source_numbers[r] for r in rows)):
            return None
        if not all(_name_in(name, have) for name in _names(text)):
            return None
        lexical = len(content & have) / len(content)
        semantic = max(float(source_vectors[r] @ v) for r in rows for v in vector)
        if lexical < thresholds.lexical or semantic < thresholds.semantic:
            return None
        return lexical + semantic

    claims, unsupported = [], []
    for (text, marks), vector in zip(parsed, vectors):
        content = set(terms(text))
        cited = [by_n[m] for m in dict.fromkeys(marks) if m in by_n]
        # a cited source that shares no word with the claim adds nothing to it
        cited = [r for r in cited if content & source_terms[r]]
        rows = cited if support(text, vector, cited) is not None else []
        if not rows:  # cited the wrong source, or none: the best source or pair that holds
            options = [[r] for r in range(len(sources))]
            options += [[a, b] for a in range(len(sources)) for b in range(a + 1, len(sources))]
            scored = [(support(text, vector, rows), rows) for rows in options]
            scored = [(s - 0.01 * len(rows), rows) for s, rows in scored if s is not None]
            rows = max(scored)[1] if scored else []
        if rows:
            claims.append(Claim(text, tuple(sources[r].n for r in rows)))
        else:
            unsupported.append(text)

    answer = snap_answer(asked, claims, {s.n: s for s in sources})
    declined = not claims and bool(_DECLINE.search(reply))
    return Grounding(tuple(claims), tuple(unsupported), tuple(dropped), answer, declined)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("’", "'")).strip()


def _said(piece: str, claim: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(_norm(piece))}(?!\w)", _norm(claim)) is not None


def snap_answer(
    asked: Question, claims: list[Claim], sources: dict[int, Source]
) -> tuple[int, int, int] | None:
    """The short answer: a span of a supporting source that the model's claim contains.
    Typed spans first (a number for "how many", ...); for other questions, then the
    longest run of the source's words that the claim repeats, without the question's."""
    question, kind = asked.text, asked.kind
    q_terms = set(terms(question))

    def novel(piece: str) -> bool:
        return any(t not in q_terms for t in terms(piece))

    # a supported claim about something else (a small model may copy any source) holds
    # no answer to this question
    claims = [c for c in claims if set(terms(c.text)) & q_terms]
    for claim in claims:
        for n in claim.sources:
            text = sources[n].text
            # the extractive reader's choices first, if the model stated them
            phrase = best_phrase(asked, text)
            best = [(phrase.start, phrase.end) if phrase else None, short_answer(asked, text)]
            spans = [b for b in best if b] + [(c.start, c.end) for c in candidates(text, kind)]
            for start, end in spans:
                piece = text[start:end]
                if (
                    _said(piece, claim.text)
                    and novel(piece)
                    and _same_context(text, start, end, claim.text)
                ):
                    return n, start, end
    if kind != "other":  # a number, date or name was asked for and the model gave none
        return None
    for claim in claims:
        for n in claim.sources:
            run = _common_run(sources[n].text, claim.text, q_terms)
            if run:
                return n, *run
    return None


def _same_context(source: str, start: int, end: int, claim: str, window: int = 4) -> bool:
    """Whether the claim puts the answer next to the same words as the source does, on
    the same side. All of a claim's words may be in its source while it pairs them
    differently ("ABC bought Disney" from "Disney bought ABC"); the neighbours of the answer
    catch most of those. A claim with nothing around the answer ("1,500") passes."""
    said = [_norm(t) for t in _TOKEN.findall(claim)]
    piece = [_norm(t) for t in _TOKEN.findall(source[start:end])]
    at = next((i for i in range(len(said)) if said[i : i + len(piece)] == piece), None)
    if at is None or not piece:
        return True

    def content(ws: list[str]) -> set[str]:
        return {t for w in ws for t in terms(w)} - _FILLER

    claim_left = content(said[max(0, at - window) : at])
    claim_right = content(said[at + len(piece) : at + len(piece) + window])
    if not claim_left and not claim_right:
        return True
    source_left = content(_TOKEN.findall(source[:start])[-window:])
    source_right = content(_TOKEN.findall(source[end:])[:window])
    return bool(claim_left & source_left or claim_right & source_right)


def _common_run(source: str, claim: str, q_terms: set[str]) -> tuple[int, int] | None:
    """Offsets in ``source`` of the longest run of its words that ``claim`` repeats in
    order, trimmed of question and stop words at the edges and capped in length."""
    tokens = list(_TOKEN.finditer(source))
    said = [_norm(t) for t in _TOKEN.findall(claim)]
    words = [_norm(t.group()) for t in tokens]
    best = (0, 0)  # [i, j) over tokens
    for i in range(len(words)):
        for k in range(len(said)):
            length = 0
            while (
                i + length < len(words)
                and k + length < len(said)
                and words[i + length] == said[k + length]
            ):
                length += 1
            if length > best[1] - best[0]:
                best = (i, i + length)

    def filler(w: str) -> bool:
        t = terms(w)
        return w in STOP_WORDS or not t or t[0] in q_terms

    i, j = best
    while i < j and filler(words[i]):
        i += 1
    while j > i and filler(words[j - 1]):
        j -= 1
    if j - i == 0:
        return None
    j = min(j, i + MAX_ANSWER_WORDS)
    while j > i and filler(words[j - 1]):
        j -= 1
    return tokens[i].start(), tokens[j - 1].end()
