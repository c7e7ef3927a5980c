"""Follow-up questions resolved against the previous turn, as a function and over HTTP."""

import pytest

from qa.read.followup import Turn, is_followup, key_terms, resolve

TROOPS = Turn("How many troops were shipped?", "1,500")


@pytest.mark.parametrize(
    "question, expected",
    [
        ("and where were they taken?", "and where were they taken? troops shipped 1,500"),
        ("What about the missiles?", "What about the missiles? troops shipped 1,500"),
        ("when?", "when? troops shipped 1,500"),
        ("Where were the troops shipped?", "Where were the troops shipped?"),  # stands alone
        ("Who is Mark Rutte?", "Who is Mark Rutte?"),
    ],
)
def test_a_follow_up_carries_the_previous_turns_key_terms(question, expected):
    assert resolve(question, [TROOPS]) == expected


def test_without_history_the_question_is_unchanged():
    assert resolve("and where were they taken?", []) == "and where were they taken?"


def test_a_chain_of_follow_ups_keeps_the_first_subject():
    history = [TROOPS, Turn("and where were they taken?", "Vladivostok")]
    resolved = resolve("and when did it happen?", history)
    assert resolved.startswith("and when did it happen? ")
    assert {"troops", "shipped", "Vladivostok"} <= set(resolved.split())


def test_a_long_previous_answer_is_not_carried():
    sentence = "North Korea has shipped 1,500 special forces troops to Russia’s far east."
    resolved = resolve("and why?", [Turn("How many troops were shipped?", sentence)])
    assert resolved == "and why? troops shipped"


def test_key_terms_drop_question_words_stopwords_and_possessives():
    assert key_terms("What is North Korea’s troop count in Russia's far east?") == [
        "North", "Korea", "troop", "count", "Russia", "far", "east",
    ]  # fmt: skip
    assert is_followup("What did he say?") and not is_followup("What did Mark Rutte say?")


def test_ask_resolves_a_follow_up_from_the_history(client):
    history = [{"question": "Who is NATO's chief?", "answer": "Mark Rutte"}]
    r = client.post("/ask", json={"question": "and what did he say?", "history": history})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resolved_question"] == "and what did he say? NATO chief Mark Rutte"
    assert "no evidence" in body["answer"]
    assert any("Mark Rutte said" in c["text"] for c in body["citations"])


@pytest.mark.parametrize(
    "history, fragment",
    [
        ([{"answer": "1,500"}], "Field required"),
        ([{"question": 3}], "valid string"),
        ("not a list", "valid list"),
        ([{"question": "Who?"}] * 21, "at most 20 items"),
    ],
)
def test_malformed_history_is_422(client, history, fragment):
    r = client.post("/ask", json={"question": "and then?", "history": history})
    assert r.status_code == 422
    assert fragment in r.text
