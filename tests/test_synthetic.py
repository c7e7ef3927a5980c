from train.synthetic import questions

SENTENCES = [
    ("seed", "North Korea has shipped 1,500 special forces troops to Russia's far east."),
    ("seed", "The biennial AV Festival of international electronic art is held in March."),
    ("seed", "Ramon Pacheco Pardo of King's College in London said the development was grave."),
]


def test_questions_ask_for_an_entity_of_their_sentence_without_giving_it_away():
    made = questions(SENTENCES, per_sentence=2, seed=0)
    assert made
    texts = {s: d for d, s in SENTENCES}
    for item in made:
        (answer,) = item.answers
        assert item.evidence in texts and answer in item.evidence
        assert item.question.endswith("?") and answer not in item.question
        # the question keeps words of its sentence: it points at it as a real question does
        shared = set(item.question.lower().split()) & set(item.evidence.lower().split())
        assert len(shared) >= 3


def test_the_question_word_follows_the_kind_of_answer():
    made = {q.answers[0]: q.question for q in questions(SENTENCES, per_sentence=3, seed=0)}
    assert made.get("1,500", "How many").startswith("How many")
    assert made.get("March", "When").startswith("When")
    assert any(q.startswith(("How many", "When", "Who", "Where")) for q in made.values())


def test_the_same_seed_gives_the_same_questions():
    assert questions(SENTENCES, 2, seed=1) == questions(SENTENCES, 2, seed=1)
