"""A question word swapped for another of its kind (qa/read/checks/swapped.py): SQuAD 2.0's way of
writing look-alikes, refused on the sentence alone and over the real service."""

from __future__ import annotations

import pytest

from qa.read.checks.swapped import same_kind_other, swapped_in
from tests.conftest import SEED_FILE

BOND = "Spectre (2015) is the twenty-fourth James Bond film produced by Eon Productions."


@pytest.mark.parametrize(
    ("question", "sentence", "swap"),
    [
        ("What is the name of the thirty-fourth James Bond film?", BOND, ("thirty", "twenty")),
        (
            "On Metacritic, the film has a rating of 70 out of what?",
            "On Metacritic, the film has a rating of 60 out of 100.",
            ("70", "60"),
        ),
        ("Who is taken to the old MI66 building?", "Bond is taken to the old MI6 building.", ("mi66", "mi6")),
        ("Later filming took place at which studio?", "Early filming took place at Pinewood.", ("later", "early")),
        ("The film's Friday-Sunday gross was how much?", "Its Friday–Saturday gross was £20.4 million.", ("sunday", "saturday")),
        # the same two words on one side are place enough
        ("It grossed $6.4 million from its Tuesday screenings where?", "It grossed $6.4 million from its Monday preview screenings in the UK.", ("tuesday", "monday")),
    ],
)  # fmt: skip
def test_a_word_swapped_for_another_of_its_kind_is_seen(question, sentence, swap):
    assert swapped_in(question, sentence) == swap


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # the same number written otherwise
        ("Which song did she sing at age 7?", "At age seven she sang Imagine."),
        ("What won at the 43 Annual Awards?", "Say My Name won at the 43rd Annual Awards."),
        # one year or decade written short (dev13)
        ("Which station flew missions in 1973-1974?", "Skylab flew missions in 1973–74."),
        ("Who led the 1950's colony?", "Smith led the 1950s colony."),
        # "first" and "last" read from another end are often the same (dev13's Super Bowls)
        (
            "When was the last Super Bowl in California?",
            "It was the first Super Bowl in California since 2003.",
        ),
        # two alternatives offered, a share, a name's word, "first" (SQuAD 1.1 train)
        ("Are early or late maturing boys taller?", "Early maturing boys are usually taller."),
        (
            "What is one of the famous Lima restaurants?",
            "Three of the famous Lima restaurants are here.",
        ),
        ("Which Major League team is in the city?", "The city has minor league teams."),
        (
            "What was the first Bond film screened at IMAX?",
            "It was the second Bond film screened at IMAX after Skyfall.",
        ),
        # a synonym or another name: the verifier's to judge
        ("Who censored talking scenes?", "The board censored kissing scenes."),
        ("Who sang Deja Vu?", "Beyonce sang Déjà Vu."),
        # the question's word is there too
        ("Who came first in the race after the second lap?", "Ann came first in the race."),
        # an ordinal where the question counts
        ("Who was the second largest source?", "Mexico was the ten largest source."),
    ],
)
def test_what_is_not_a_swap_of_one_kind_is_left_alone(question, sentence):
    assert swapped_in(question, sentence) is None


def test_the_kinds():
    assert same_kind_other("thirty", "twenty") and same_kind_other("eighth", "fourth")
    assert not same_kind_other("second", "ten") and not same_kind_other("7", "seven")
    assert same_kind_other("sunday", "saturday") and same_kind_other("may", "march")
    assert same_kind_other("public", "private") and not same_kind_other("public", "open")


def test_the_service_refuses_the_swapped_question_and_answers_the_asked_one(client):
    assert "senior officials" not in SEED_FILE.read_text(encoding="utf-8")
    asked = "How many special forces troops has North Korea sent to Russia's far east?"
    assert client.post("/ask", json={"question": asked}).json()["answer"] == "1,500"
    swapped = "How many special forces troops has North Korea sent to Russia's far west?"
    body = client.post("/ask", json={"question": swapped}).json()
    assert body["abstained"] is True and body["evidence_score"] == 0.0
