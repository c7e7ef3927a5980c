"""Look-alikes made of the answer sentence's own words (train/same_words.py): what the
verifier let through on the seed article ("How many troops has Russia sent to North
Korea?" answered "1,500")."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.test_unanswerable_training import SQUAD11
from train.same_words import counted, reverse_names, swap_counted
from train.verifier_data import groups

SENTENCE = (
    "North Korea has sent 1,500 special forces troops to Russia and shipped 13,000 "
    "containers of artillery rounds to Russia, the agency said."
)


def test_two_names_joined_by_a_directed_phrase_are_reversed():
    assert (
        reverse_names("How many troops has North Korea sent to Russia?", SENTENCE)
        == "How many troops has Russia sent to North Korea?"
    )
    assert (
        reverse_names("What did North Korea ship to Russia?", SENTENCE)
        == "What did Russia ship to North Korea?"
    )


def test_names_whose_order_carries_no_meaning_or_not_in_the_sentence_are_left():
    # joined by "and": the same question either way round
    assert reverse_names("What did North Korea and Russia agree?", SENTENCE) is None
    # one name not in the sentence: a swap would bring in a word the sentence lacks
    assert reverse_names("How many troops has North Korea sent to Ukraine?", SENTENCE) is None
    # nothing directed between them
    assert reverse_names("When was Russia North Korea's ally?", SENTENCE) is None


def test_the_thing_counted_is_swapped_for_one_the_window_never_mentions():
    assert counted("How many troops were shipped?") == "troops"
    assert (
        counted("How many special forces troops has North Korea sent?") == "special forces troops"
    )
    assert counted("What did North Korea ship?") is None
    pool = ["containers", "artillery rounds", "tanks"]
    # containers and rounds are in the sentence (counted or not): only tanks is safe
    assert swap_counted("How many troops were shipped?", SENTENCE, pool) == (
        "How many tanks were shipped?"
    )
    assert swap_counted("How many troops were shipped?", SENTENCE, ["containers"]) is None


def test_groups_hold_each_look_alike_beside_the_question_on_the_same_window():
    if not SQUAD11.is_file():
        pytest.skip("no SQuAD training data")
    titles = {"2008_Sichuan_earthquake", "Alexander_Graham_Bell", "Age_of_Enlightenment", "Alaska"}
    with gzip.open(SQUAD11, "rt", encoding="utf-8") as f:
        paragraphs = [p for p in map(json.loads, f) if p["title"] in titles]
    made = groups(paragraphs, {}, set(), 0, 0.0, 0, reversed_n=5, counted_n=5)
    kinds = [g[1].kind for g in made]
    assert kinds.count("reversed") == 5 and kinds.count("counted") == 5
    words = lambda q: sorted(q.rstrip("?").split())
    for asked, alike in made:
        assert asked.answerable and asked.text[slice(*asked.span)]
        assert not alike.answerable and alike.span is None and alike.text == asked.text
        assert alike.question != asked.question
        if alike.kind == "reversed":  # the same words in another order
            assert words(alike.question) == words(asked.question)
        else:  # another thing counted, one the window does not mention
            thing = counted(alike.question)
            assert thing and thing != counted(asked.question)
            assert thing.split()[0] not in asked.text.lower()


def test_the_model_card_says_how_many_of_each_the_verifier_saw():
    from train.model_card import same_words_text

    assert same_words_text({"short": 5}) == ""
    said = same_words_text({"reversed": 950, "counted": 1700})
    assert "950 look-alikes with two of the question's names reversed" in said
    assert "1700 counting another thing" in said
