"""The Q&A set: one JSON object per line, ``{"id", "question", "answers", "doc",
"evidence"}``; ``answers: []`` marks a question the documents do not answer (``"paired"``
may name the answerable question it was written from, as SQuAD 2.0's were). A follow-up
question carries the turns before it, ``"history": [{"question", "answer"}]``, as /ask
takes them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from eval.errors import BadQAFile
from qa.read.followup import Turn

log = logging.getLogger(__name__)

QUESTION_TYPES = ("how many/much", "when", "who", "where", "what/which", "why/how", "other")

_WH = re.compile(r"\b(how|when|who|whom|whose|where|what|which|why)\b", re.IGNORECASE)
_HOW_MUCH = re.compile(r"\bhow\s+(many|much)\b", re.IGNORECASE)
# "In what year ...", "which city ..." ask for a time or a place
_WH_WHEN = re.compile(
    r"\b(what|which)\s+(year|years|day|date|month|century|decade|time|period|season)\b",
    re.IGNORECASE,
)
_WH_WHERE = re.compile(
    r"\b(what|which)\s+(city|country|place|region|state|town|continent|location|county|borough)\b",
    re.IGNORECASE,
)
_WH_TYPE = {
    "when": "when",
    "who": "who",
    "whom": "who",
    "whose": "who",
    "where": "where",
    "what": "what/which",
    "which": "what/which",
    "why": "why/how",
    "how": "why/how",
}


def group_name(doc_id: str) -> str:
    """A document's group: its id up to "__" (SQuAD's article of a paragraph, named
    ``Article__p000.txt``); a document without "__" is a group of its own."""
    return doc_id.split("__")[0]


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    answers: tuple[str, ...]
    doc: str
    evidence: str = ""
    history: tuple[Turn, ...] = ()
    paired: str = ""  # an unanswerable question's answerable twin (its id), if known

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def qtype(self) -> str:
        return question_type(self.question)

    def unanswerable(self) -> QAItem:
        """The same question once its gold document is gone from the collection."""
        return replace(self, answers=(), evidence="")


@dataclass
class QASet:
    items: list[QAItem]
    problems: list[str] = field(default_factory=list)


def question_type(question: str) -> str:
    """The question's type from its first wh-word; "how many/much" anywhere wins, since a
    quantity is asked for, and "what/which" + a time or place noun ("in what year",
    "which city") counts as when/where."""
    if _HOW_MUCH.search(question):
        return "how many/much"
    if _WH_WHEN.search(question):
        return "when"
    if _WH_WHERE.search(question):
        return "where"
    match = _WH.search(question)
    return _WH_TYPE[match.group(1).lower()] if match else "other"


def parse_item(line: str) -> QAItem:
    """One line of the Q&A file; ValueError or TypeError says what is wrong with it."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise TypeError("not a JSON object")
    for key in ("id", "question", "doc"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise ValueError(f'"{key}" must be a non-empty string')
    answers = row.get("answers")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise ValueError('"answers" must be a list of non-empty strings ([] if unanswerable)')
    evidence = row.get("evidence", "")
    if not isinstance(evidence, str):
        raise TypeError('"evidence" must be a string')
    paired = row.get("paired", "")
    if not isinstance(paired, str):
        raise TypeError('"paired" must be a string (the id of an answerable question)')
    return QAItem(
        row["id"], row["question"].strip(), tuple(answers), row["doc"], evidence,
        parse_history(row.get("history", [])), paired,
    )  # fmt: skip


def parse_history(history: object) -> tuple[Turn, ...]:
    """The turns before a follow-up: ``[{"question": str, "answer": str | null}]``."""
    if not isinstance(history, list):
        raise TypeError('"history" must be a list of {"question", "answer"} objects')
    turns = []
    for turn in history:
        if not isinstance(turn, dict) or not isinstance(turn.get("question"), str):
            raise TypeError('each "history" turn needs a "question" string')
        answer = turn.get("answer")
        if answer is not None and not isinstance(answer, str):
            raise TypeError('a "history" turn\'s "answer" must be a string or null')
        turns.append(Turn(turn["question"], answer))
    return tuple(turns)


def parse_lines(lines: Iterable[str], name: str, strict: bool = False) -> QASet:
    """Every well-formed line; a malformed one is named by line number and skipped, or
    stops the run when ``strict``."""
    qa = QASet([])
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = parse_item(line)
            if item.id in seen:
                raise ValueError(f'duplicate id "{item.id}"')
        except (ValueError, TypeError) as exc:
            problem = f"{name} line {number}: {exc}"
            if strict:
                raise BadQAFile(f"{problem} (stopped by --strict)") from None
            log.warning("%s; skipped", problem)
            qa.problems.append(problem)
            continue
        seen.add(item.id)
        qa.items.append(item)
    return qa


def load_qa(path: Path, strict: bool = False) -> QASet:
    if not path.is_file():
        raise BadQAFile(f"no Q&A file at {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BadQAFile(f"{path} is not UTF-8 ({exc.reason})") from None
    qa = parse_lines(text.splitlines(), path.name, strict)
    if not qa.items:
        raise BadQAFile(f"{path} holds no usable questions")
    return qa
