"""Follow-up questions: "and where were they taken?" means little to a retriever on its own.

Before retrieval a follow-up is completed with the key terms of the previous turn (its
question, itself resolved the same way, and its short answer). Deterministic and cheap: a
question counts as a follow-up when it opens like one ("and ...", "what about ..."), leans on
a pronoun ("they", "it", "his"...), or has at most one word of its own."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# How many earlier turns are followed back, and how many terms are carried over.
MAX_TURNS = 6
# earlier turns a request may carry at most (/ask refuses more; /v1 keeps the last ones)
HISTORY_LIMIT = 20
MAX_TERMS = 10
# A longer answer is a sentence, not a name or a number worth carrying.
MAX_ANSWER_WORDS = 8

_WORD = re.compile(r"[\w][\w’'.,-]*[\w]|\w")
_OPENERS = re.compile(r"^\s*(and|but|also|so|then|what about|how about)\b", re.IGNORECASE)
_PRONOUNS = {
    "they", "them", "their", "theirs", "it", "its", "he", "him", "his", "she", "her",
    "hers", "these", "those", "ones",
}  # fmt: skip
_QUESTION_WORDS = {"what", "who", "whom", "whose", "when", "where", "why", "how", "which"}
_STOPWORDS = _PRONOUNS | _QUESTION_WORDS | {
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "but", "by", "can", "could", "did", "do", "does", "doing", "done", "for",
    "from", "had", "has", "have", "having", "i", "if", "in", "into", "is", "many", "may",
    "me", "might", "more", "most", "much", "must", "my", "no", "not", "of", "on", "or",
    "other", "our", "out", "over", "said", "say", "says", "shall", "should", "so", "some",
    "such", "tell", "than", "that", "the", "then", "there", "this", "to", "up", "us", "was",
    "we", "were", "will", "with", "would", "you", "your", "else", "too", "again",
}  # fmt: skip


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str | None = None


def words(text: str) -> list[str]:
    return [w.strip(".,") for w in _WORD.findall(text)]


def key_terms(text: str) -> list[str]:
    """Content words in order of appearance, each once; possessive endings dropped."""
    seen: set[str] = set()
    terms = []
    for word in words(text):
        word = re.sub(r"[’']s$", "", word)
        low = word.lower()
        if low in _STOPWORDS or low in seen or (len(word) < 2 and not word.isdigit()):
            continue
        seen.add(low)
        terms.append(word)
    return terms


def is_followup(question: str) -> bool:
    lowered = [w.lower() for w in words(question)]
    return (
        bool(_OPENERS.match(question))
        or any(w in _PRONOUNS for w in lowered)
        or len(key_terms(question)) <= 1
    )


def resolve(question: str, history: Sequence[Turn]) -> str:
    """The question to retrieve with: ``question`` itself, or, for a follow-up, the
    question followed by the previous turn's key terms it does not already use."""
    history = list(history)[-MAX_TURNS:]
    if not history or not is_followup(question):
        return question
    previous = history[-1]
    context = resolve(previous.question, history[:-1])
    if previous.answer and len(words(previous.answer)) <= MAX_ANSWER_WORDS:
        context = f"{context} {previous.answer}"
    return extended(question, context)


def extended(question: str, context: str) -> str:
    """``question`` followed by the key terms of ``context`` it does not already use."""
    present = {w.lower() for w in words(question)}
    carried = [t for t in key_terms(context) if t.lower() not in present][:MAX_TERMS]
    return f"{question.rstrip()} {' '.join(carried)}" if carried else question
