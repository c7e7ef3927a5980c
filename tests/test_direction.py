"""Who did what to whom (qa/read/checks/direction.py): a question whose names its sentence joins
the other way round is refused, on the seed article over the real service."""

from __future__ import annotations

import pytest

from qa.read.checks.direction import reversed_in
from tests.conftest import SEED_FILE
from train.same_words import reverse_names

SHIPPED = (
    "North Korea has shipped 1,500 special forces troops to Russia\u2019s far east for training "
    "and acclimatizing at local military bases, South Korea\u2019s spy agency said on Friday."
)


def test_a_question_sending_the_other_way_is_reversed_in_the_sentence():
    assert reversed_in("How many troops has Russia sent to North Korea?", SHIPPED)
    assert not reversed_in("How many troops has North Korea sent to Russia?", SHIPPED)


@pytest.mark.parametrize(
    "question",
    [
        "How many troops were shipped?",  # no two names
        "What did North Korea and Russia agree?",  # order carries no meaning
        "How many troops has Russia sent to Ukraine?",  # a name the sentence lacks
        "When did North Korea ship troops for Russia?",  # "for" directs at no name there
    ],
)
def test_no_reversal_is_seen_where_the_sentence_cannot_say(question):
    assert not reversed_in(question, SHIPPED)


def test_every_look_alike_the_verifier_trains_on_the_seed_sentence_is_refused_by_it():
    asked = "How many special forces troops has North Korea shipped to Russia?"
    alike = reverse_names(asked, SHIPPED)
    assert alike == "How many special forces troops has Russia shipped to North Korea?"
    assert reversed_in(alike, SHIPPED) and not reversed_in(asked, SHIPPED)


def test_the_service_refuses_the_reversed_question_and_answers_the_right_way_round(client):
    asked = "How many special forces troops has North Korea sent to Russia's far east?"
    right = client.post("/ask", json={"question": asked})
    assert right.status_code == 200 and right.json()["answer"] == "1,500"
    body = client.post(
        "/ask", json={"question": "How many troops has Russia sent to North Korea?"}
    ).json()
    assert body["abstained"] is True and body["citations"] == []
    assert "North Korea has shipped 1,500" in SEED_FILE.read_text(encoding="utf-8")
