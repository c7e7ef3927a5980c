"""An answer that the best sentence does not give, for all its words in common with the
question: the date a source spoke (qa/read/checks/reported.py) and the initials of the question's
own name (qa/read/checks/echo.py), checked alone and on the seed article over the real service."""

from __future__ import annotations

import pytest

from qa.read.checks.echo import initials_of_question
from qa.read.checks.reported import date_of_saying
from tests.conftest import SEED_FILE

SAID = (
    "North Korea will likely deploy the troops for combat in the war in Ukraine, South "
    "Korea\u2019s spy agency said on Friday."
)
FRIDAY = SAID.index("Friday")


def test_the_day_a_source_spoke_does_not_answer_when_something_else_happens():
    assert date_of_saying("When will North Korean troops arrive in Ukraine?", SAID, FRIDAY)
    assert date_of_saying("What day will the troops be deployed?", SAID, FRIDAY)


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        ("When did the spy agency say the troops would be deployed?", SAID, "Friday"),
        ("When was the deployment announced?", SAID, "Friday"),
        ("Who said the troops would be deployed?", SAID, "South Korea"),
        ("When did the earthquake occur?", "The earthquake occurred on Friday.", "Friday"),
    ],
)
def test_a_date_not_of_saying_or_a_question_about_the_saying_is_left_alone(
    question, sentence, answer
):
    assert not date_of_saying(question, sentence, sentence.index(answer))


def test_the_initials_of_the_questions_own_name_are_no_answer():
    asked = "Who is the director of South Korea's National Intelligence Service?"
    assert initials_of_question(asked, "NIS")
    assert initials_of_question("Who funds the Bank of England?", "BE")
    # asked for the abbreviation, or initials of something the question does not name
    assert not initials_of_question("What is the National Intelligence Service known as?", "NIS")
    assert not initials_of_question("What does NIS stand for?", "National Intelligence Service")
    assert not initials_of_question("Which agency reported the troops?", "NIS")
    assert not initials_of_question(asked, "Park")


@pytest.mark.parametrize(
    "question",
    [
        "When will North Korean troops arrive in Ukraine?",  # the seed's r16: "Friday"
        "Who is the director of South Korea's National Intelligence Service?",  # u04: "NIS"
    ],
)
def test_the_service_refuses_what_the_seed_does_not_say(client, question):
    assert "spy agency said on Friday" in SEED_FILE.read_text(encoding="utf-8")
    body = client.post("/ask", json={"question": question}).json()
    assert body["abstained"] is True and body["citations"] == [], body["answer"]


def test_the_service_still_answers_the_day_the_agency_spoke(client):
    # the seed's seed-03
    asked = "On what day did South Korea's spy agency make the announcement?"
    assert not date_of_saying(asked, SAID, FRIDAY)
    assert client.post("/ask", json={"question": asked}).json()["answer"] == "Friday"
