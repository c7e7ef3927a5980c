"""Follow-up versions of training questions (train/followups.py): the form the reader sees
when qa/read/followup.py completes a follow-up."""

import random
from pathlib import Path

from eval.data import QAItem, load_qa
from qa.read.followup import Turn, resolve
from train.followups import followup_items, followup_question

ROOT = Path(__file__).resolve().parent.parent
PREVIOUS = QAItem("q1", "How many troops were shipped?", ("1,500",), "seed.txt", "...")


def test_a_followup_version_is_what_a_followup_resolves_to():
    asked = "and where were they taken?"
    made = {
        followup_question("Where were they taken?", PREVIOUS, random.Random(s)) for s in range(8)
    }
    resolved = resolve(asked, [Turn(PREVIOUS.question, PREVIOUS.answers[0])])
    assert resolved == "and where were they taken? troops shipped 1,500"
    assert made == {resolved, "Where were they taken? troops shipped 1,500"}


def test_followup_items_keep_answers_and_evidence_and_carry_another_question_of_the_doc():
    items = load_qa(ROOT / "eval" / "seed_qa.jsonl").items
    answerable = [i for i in items if i.answers]
    made = followup_items(items, 0.5, seed=0)
    assert len(made) == round(0.5 * len(answerable))  # the seed set is one document
    by_id = {i.id: i for i in items}
    for followup in made:
        original = by_id[followup.id.removesuffix("-followup")]
        assert followup.answers == original.answers and followup.evidence == original.evidence
        asked = original.question[:1].lower() + original.question[1:]
        assert followup.question.startswith((original.question, "and " + asked))
        assert len(followup.question) > len(original.question) + 4
    assert followup_items(items, 0.5, seed=0) == made  # fixed seed, same questions
    alone = [i for i in answerable if i.doc == answerable[0].doc][:1]
    assert followup_items(alone, 1.0, seed=0) == []  # no other question to follow
