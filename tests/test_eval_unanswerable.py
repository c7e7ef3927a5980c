"""Choosing paragraphs to leave out so their questions become unanswerable."""

from eval.data import QAItem
from eval.unanswerable import candidate_docs, make_unanswerable

TEXTS = {
    "p1.txt": "Zanzibar is an island. Its capital is Stone Town.",
    "p2.txt": "Kilimanjaro is 5,895 metres high. It is in Tanzania.",
    "p3.txt": "The largest city of Tanzania is Dar es Salaam.",
    "p4.txt": "The Serengeti hosts the great migration.",
}


def q(qid, doc, *answers):
    return QAItem(qid, f"question {qid}?", tuple(answers), doc, "")


ITEMS = [
    q("1", "p1.txt", "Stone Town"),
    q("2", "p1.txt", "an island"),
    q("3", "p2.txt", "5,895 metres"),
    q("4", "p2.txt", "Tanzania"),  # also in p3: p2 may not be left out
    q("5", "p3.txt", "Dar es Salaam"),
    q("6", "p4.txt", "the great migration", "migration"),
]


def test_only_paragraphs_whose_answers_occur_nowhere_else():
    # "an island" normalises to "island", found only in p1; "Tanzania" is in p2 and p3
    assert candidate_docs(ITEMS, TEXTS) == ["p1.txt", "p3.txt", "p4.txt"]


def test_an_answer_inside_a_longer_word_elsewhere_counts_as_found():
    # normalised, "Tanzania's" is the token "tanzanias"; the raw text still holds the name
    texts = {**TEXTS, "p3.txt": "Tanzania's largest city is Dar es Salaam."}
    assert "p2.txt" not in candidate_docs(ITEMS, texts)


def test_already_unanswerable_questions_keep_their_paragraph_in():
    items = [*ITEMS, q("7", "p4.txt")]
    assert "p4.txt" not in candidate_docs(items, TEXTS)


def test_whole_paragraphs_are_left_out_until_the_share_is_reached():
    for seed in range(5):
        ex = make_unanswerable(ITEMS, TEXTS, 0.2, seed)
        assert ex.candidates == 3
        assert ex.docs <= {"p1.txt", "p3.txt", "p4.txt"}
        gone = [i for i in ex.items if i.doc in ex.docs]
        assert ex.unanswerable == len(gone) >= 0.2 * len(ITEMS)
        assert all(not i.answerable and not i.evidence for i in gone)
        assert all(i.answerable for i in ex.items if i.doc not in ex.docs)
        assert [i.id for i in ex.items] == [i.id for i in ITEMS]
    assert (
        make_unanswerable(ITEMS, TEXTS, 0.2, 3).docs == make_unanswerable(ITEMS, TEXTS, 0.2, 3).docs
    )
