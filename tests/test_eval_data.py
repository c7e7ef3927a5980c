"""Reading the Q&A file: good rows, malformed rows named by line number, question types."""

import json

import pytest

from eval.data import QUESTION_TYPES, load_qa, parse_lines, question_type
from eval.errors import BadQAFile


def row(**fields):
    base = {"id": "q1", "question": "Who?", "answers": ["Ann"], "doc": "a.txt", "evidence": "Ann."}
    return json.dumps({**base, **fields})


def test_malformed_lines_are_named_and_skipped(caplog):
    lines = [
        row(id="q1"),
        "{not json",
        "",
        json.dumps(["a", "list"]),
        row(id="q4", answers="Ann"),
        row(id="q5", question="   "),
        row(id="q1"),  # duplicate id
        row(id="q7", answers=[], evidence=""),
        row(id="q8", surplus="unknown fields are ignored"),
    ]
    qa = parse_lines(lines, "qa.jsonl")
    assert [item.id for item in qa.items] == ["q1", "q7", "q8"]
    assert [p.split(":")[0] for p in qa.problems] == [
        "qa.jsonl line 2",
        "qa.jsonl line 4",
        "qa.jsonl line 5",
        "qa.jsonl line 6",
        "qa.jsonl line 7",
    ]
    assert "duplicate" in qa.problems[-1]
    assert not qa.items[1].answerable
    assert "qa.jsonl line 2" in caplog.text


def test_a_followup_carries_its_turns_and_a_bad_history_is_named():
    turns = [{"question": "How many troops were shipped?", "answer": "1,500"}]
    lines = [
        row(id="f1", question="and where?", history=turns),
        row(id="f2", history=[{"question": "Who?"}]),  # an answer may be left out
        row(id="f3", history="How many?"),
        row(id="f4", history=[{"answer": "1,500"}]),
        row(id="f5", history=[{"question": "How many?", "answer": 1500}]),
    ]
    qa = parse_lines(lines, "qa.jsonl")
    assert [item.id for item in qa.items] == ["f1", "f2"]
    (turn,) = qa.items[0].history
    assert (turn.question, turn.answer) == ("How many troops were shipped?", "1,500")
    assert qa.items[1].history[0].answer is None
    assert [p.split(":")[0] for p in qa.problems] == [f"qa.jsonl line {n}" for n in (3, 4, 5)]
    assert all('"history"' in p for p in qa.problems)


def test_strict_stops_at_the_first_malformed_line():
    with pytest.raises(BadQAFile, match="line 2"):
        parse_lines([row(), "{not json", row(id="q3")], "qa.jsonl", strict=True)


def test_load_qa_errors(tmp_path):
    with pytest.raises(BadQAFile, match="no Q&A file"):
        load_qa(tmp_path / "missing.jsonl")
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes(
        '{"id": "q1", "question": "Où?", "answers": [], "doc": "a.txt"}'.encode("latin-1")
    )
    with pytest.raises(BadQAFile, match="not UTF-8"):
        load_qa(latin1)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(BadQAFile, match="no usable questions"):
        load_qa(empty)


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("How many troops were sent?", "how many/much"),
        ("For how much was it sold?", "how many/much"),
        ("When did the war start?", "when"),
        ("In what year did ABC stylize its logo?", "when"),
        ("Whose idea was it?", "who"),
        ("To whom was it sent?", "who"),
        ("Which city hosted the game?", "where"),
        ("Where is the NIS based?", "where"),
        ("What did the Kremlin dismiss?", "what/which"),
        ("Which fleet carried the troops?", "what/which"),
        ("Why did Yoon call a meeting?", "why/how"),
        ("How did the agency identify them?", "why/how"),
        ("Name the president of Ukraine.", "other"),
    ],
)
def test_question_type(question, qtype):
    assert question_type(question) == qtype
    assert qtype in QUESTION_TYPES
