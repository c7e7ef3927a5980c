"""What a figure counts (qa/read/figures.py ``counts_other``): a "how many" question is not
answered by a number that counts something else, on the seed article over the real service."""

from __future__ import annotations

import pytest

from qa.read.figures import counted_things, counts_asked, counts_other, without_figure
from tests.conftest import SEED_FILE

CONTAINERS = (
    "In more than 13,000 containers, North Korea has shipped artillery rounds, ballistic "
    "missiles and anti-tank rockets to Russia since August last year, the agency said."
)
FIGURE = CONTAINERS.index("13,000")


def _counts_other(question: str, sentence: str = CONTAINERS, figure: str = "13,000") -> bool:
    start = sentence.index(figure)
    return counts_other(question, sentence, start, start + len(figure))


def test_what_a_how_many_question_counts():
    assert counted_things("How many North Korean soldiers have been killed?") == ("soldier",)
    assert counted_things("How many artillery shells were shipped?") == ("shell", "artilleri")
    assert counted_things("How many people watched the final?") == ("peopl",)
    assert counted_things("How many of the M2HB guns were mounted?") == ("gun",)
    assert counted_things("How many were shipped?") == ()
    assert counted_things("Who shipped the missiles?") == ()


@pytest.mark.parametrize(
    "question",
    [
        "How many ballistic missiles has North Korea sent to Russia?",  # the seed's r23
        "How many tanks did North Korea ship?",  # e04: "anti-tank rockets"
        "How many missiles has North Korea shipped?",  # e07
        "How many artillery shells has North Korea shipped?",  # e03: "shipped artillery rounds"
    ],
)
def test_a_figure_of_containers_does_not_count_what_the_sentence_names_apart(question):
    assert _counts_other(question)
    assert _counts_other(question, figure="more than 13,000")


@pytest.mark.parametrize(
    ("question", "sentence", "figure"),
    [
        # the question counts what the figure counts
        ("How many containers did North Korea ship?", CONTAINERS, "13,000"),
        ("How many containers were shipped?", CONTAINERS, "13,000 containers"),
        # counted in other words, the question's thing never named: left to the verifier
        ("How many students attend?", "The university has 12,000 undergraduates.", "12,000"),
        # the thing named, but counted by a number of its own
        ("How many homes were rebuilt?", "200,000 homes and 1,000 schools were rebuilt.", "1,000"),
        # a part of the thing ("1800 of the world's 10,000 bird species")
        ("How many bird species migrate?", "About 1800 of the 10,000 species migrate.", "1800"),
        # nothing counted right after the figure
        (
            "How many employees did IBM have?",
            "IBM had 435,000 worldwide, employees said.",
            "435,000",
        ),
        # the thing inside a name
        (
            "How many nations are there?",
            "There are 53 states in the Commonwealth of Nations.",
            "53",
        ),
    ],
)
def test_no_other_thing_is_seen_where_the_sentence_cannot_say(question, sentence, figure):
    assert not _counts_other(question, sentence, figure)


ROUNDS = "In all, more than eight million artillery and rocket rounds have been shipped to Russia."


def test_a_sentence_whose_figure_counts_what_is_asked():
    assert counts_asked("How many artillery shells has North Korea shipped?", ROUNDS)
    assert counts_asked("How many rockets were shipped?", ROUNDS)
    assert not counts_asked("How many tanks did North Korea ship?", ROUNDS)
    assert not counts_asked("How many missiles has North Korea shipped?", ROUNDS)
    assert not counts_asked("When were the shells shipped?", ROUNDS)  # not "how many"
    assert not counts_asked("How many shells were shipped?", "The shells were shipped.")


def test_the_service_refuses_missiles_counted_in_containers_and_answers_the_containers(client):
    assert CONTAINERS[:60] in SEED_FILE.read_text(encoding="utf-8")
    body = client.post("/ask", json={"question": "How many missiles has North Korea shipped?"})
    assert body.status_code == 200
    assert body.json()["abstained"] is True and body.json()["citations"] == []
    assert body.json()["evidence_score"] == 0.0  # refused by the check, whatever the scores
    right = client.post("/ask", json={"question": "How many containers of weapons has North "
                                                  "Korea sent to Russia?"}).json()  # fmt: skip
    assert right["abstained"] is False and "13,000" in right["answer"]


def test_the_service_reads_again_without_a_sentence_that_counts_something_else(client):
    # "How many artillery shells ...?" ranks the containers' sentence first; its figure counts
    # containers, and a sentence nearby counts artillery rounds: read without the first, the
    # rounds' sentence is cited with its exact offsets (the seed's e03)
    body = client.post(
        "/ask", json={"question": "How many artillery shells has North Korea shipped?"}
    ).json()
    assert body["abstained"] is False and body["answer"].endswith("eight million")
    cited = body["citations"][0]
    text = SEED_FILE.read_text(encoding="utf-8")
    assert text[cited["start"] : cited["end"]] == cited["text"]
    assert "rounds have been shipped" in cited["text"] and "13,000" not in cited["text"]
    # where nothing nearby counts what is asked, still refused (e04: no tanks are counted)
    tanks = client.post("/ask", json={"question": "How many tanks did North Korea ship?"}).json()
    assert tanks["abstained"] is True and tanks["evidence_score"] == 0.0


@pytest.mark.parametrize(
    ("question", "answer", "refused"),
    [
        ("How many fighter jets has South Korea sold?", "howitzers and missiles", True),
        ("How many North Korean officers were identified?", "NIS", True),
        ("How many troops were shipped?", "1,500", False),
        ("How many troops were shipped?", "about fifteen hundred", False),
        ("How many touchdowns did Manning throw?", "zero", False),
        ("How many times did they meet?", "twice", False),
        ("How many of the seats did they win?", "all", False),
        ("How many votes did it get?", "a single vote", False),
        # "how many" is not what is asked
        ("How was it decided how many would be appointed?", "by party strength", False),
        ("Not knowing how many tests, what did NASA use?", "letters", False),
        ("When did the troops arrive?", "Friday", False),
    ],
)
def test_a_how_many_question_is_not_answered_without_a_figure(question, answer, refused):
    assert without_figure(question, answer) is refused


def test_the_service_refuses_a_how_many_answered_with_no_figure(client):
    # the seed names what South Korea sells ("fighter jets, mechanized howitzers and
    # missiles") but never how many: a span of things is not a count (the seed's s03)
    body = client.post("/ask", json={"question": "How many fighter jets has South Korea sold?"})
    assert body.status_code == 200
    assert body.json()["abstained"] is True and body.json()["evidence_score"] == 0.0
    right = client.post("/ask", json={"question": "How many troops were shipped?"}).json()
    assert right["abstained"] is False and right["answer"] == "1,500"
