"""Unanswerable look-alikes: each edit brings in what the paragraph does not hold."""

import random

from train.negatives import negate, negatives, swap_antonym, swap_entity, swap_number

PARAGRAPH = (
    "The 2008 Sichuan earthquake killed 69,197 people. It was the largest earthquake in "
    "China since 1976. Premier Wen Jiabao flew to the area within hours."
)
EVIDENCE = "The 2008 Sichuan earthquake killed 69,197 people."


def test_a_number_is_changed_to_one_the_paragraph_does_not_hold():
    q = swap_number("How many people died in the 2008 earthquake?", PARAGRAPH, random.Random(0))
    new = q.split("the ")[1].split()[0]
    assert new.isdigit() and new != "2008" and new not in PARAGRAPH
    assert swap_number("How many people died?", PARAGRAPH, random.Random(0)) is None


def test_a_name_is_swapped_for_another_of_its_kind_absent_from_the_paragraph():
    pool = {"PERSON": ["Wen Jiabao", "Hu Jintao"], "GPE": ["China"]}
    q = swap_entity(
        "Where did Wen Jiabao fly?", [("Wen Jiabao", "PERSON")], pool, PARAGRAPH, random.Random(0)
    )
    assert q == "Where did Hu Jintao fly?"
    # nothing of the same kind that the paragraph lacks: no edit
    assert (
        swap_entity("Where is China?", [("China", "GPE")], pool, PARAGRAPH, random.Random(0))
        is None
    )


def test_antonyms_and_negations_are_checked_against_the_text():
    assert swap_antonym("What was the largest quake?", PARAGRAPH, random.Random(0)) == (
        "What was the smallest quake?"
    )
    # "largest" <- "smallest" would bring in a word the paragraph holds: not made
    assert swap_antonym("What was the smallest quake?", PARAGRAPH, random.Random(0)) is None
    assert negate("How many people were killed?", EVIDENCE) == "How many people were not killed?"
    assert negate("Who was not there?", EVIDENCE) is None  # already negated
    assert negate("Who died?", "Nobody did not die.") is None  # the evidence negates


def test_every_applicable_kind_is_made_and_none_repeats_the_question():
    made = negatives(
        "Which was the largest earthquake in 2008?", EVIDENCE, PARAGRAPH, [], {}, random.Random(1)
    )
    assert {n.kind for n in made} == {"number", "antonym", "negation"}
    assert all(n.question != "Which was the largest earthquake in 2008?" for n in made)


def test_look_alike_items_are_unanswerable_edits_of_answerable_questions():
    from eval.data import QAItem
    from train.negatives import look_alike_items

    items = [
        QAItem("a", "How many people died in the 2008 quake?", ("69,197",), "Q__p0", EVIDENCE),
        QAItem("b", "What was the largest earthquake?", ("Sichuan",), "Q__p0", EVIDENCE),
        QAItem("c", "Who flew to the area?", ("Wen Jiabao",), "Q__p1", ""),  # doc not given
        QAItem("d", "Who was asked?", (), "Q__p0", ""),  # unanswerable already
    ]
    made = look_alike_items(items, {"Q__p0": PARAGRAPH}, 1.0, seed=0)
    assert {m.id for m in made} == {"a-lookalike", "b-lookalike"}
    originals = {i.id: i for i in items}
    for m in made:
        assert m.answers == () and m.doc == "Q__p0"
        assert m.question != originals[m.id.split("-")[0]].question


def test_a_shared_word_is_swapped_for_another_of_its_tag_the_paragraph_lacks():
    from train.negatives import swap_word

    words = [("killed", "VBD"), ("people", "NNS")]
    pool = {"VBD": ["killed", "rescued"], "NNS": ["people", "buildings"]}
    q = swap_word(
        "How many people were killed?", words, pool, EVIDENCE, PARAGRAPH, random.Random(0)
    )
    assert q in {"How many people were rescued?", "How many buildings were killed?"}
    # only words the evidence holds are swapped, and only for words the paragraph lacks
    assert (
        swap_word("Who flew?", [("flew", "VBD")], pool, EVIDENCE, PARAGRAPH, random.Random(0))
        is None
    )
    assert swap_word("Who died?", [("died", "VBD")], {"VBD": ["killed"]}, "He died.", PARAGRAPH,
                     random.Random(0)) is None  # fmt: skip


def test_ordinals_and_numbers_inside_names_are_changed():
    from train.negatives import swap_ordinal

    q = swap_ordinal("What was the twenty-fourth film?", PARAGRAPH, random.Random(0))
    assert q.startswith("What was the ") and q.endswith("-fourth film?") and "twenty" not in q
    q = swap_number("Who worked at MI6?", PARAGRAPH, random.Random(0))
    assert q.startswith("Who worked at MI") and q != "Who worked at MI6?"
    # a number's digit groups are one number: "69,197" is not edited into "69,198"
    assert swap_number("Were 69,197 killed?", PARAGRAPH, random.Random(0)) is None


def test_a_name_the_article_lacks_comes_from_another_article():
    q = swap_entity(
        "Where is China?", [("China", "GPE")], {"GPE": ["China"]}, PARAGRAPH, random.Random(0),
        outside={"GPE": ["China", "Peru"]},
    )  # fmt: skip
    assert q == "Where is Peru?"
