"""Short keyword-style versions of training questions (train/keywords.py)."""

import json
import random
import re
from pathlib import Path

from eval.data import QAItem
from train.keywords import STOP, short_items, short_question

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = (
    "North Korea has shipped 1,500 special forces troops to Russia’s far east for training "
    "and acclimatizing at local military bases, South Korea’s spy agency said on Friday."
)


def test_a_short_question_keeps_the_wh_phrase_and_words_of_the_evidence():
    question = "How many special forces troops has North Korea sent to Russia's far east?"
    made = {short_question(question, EVIDENCE, random.Random(seed)) for seed in range(20)}
    assert len(made) > 3  # the kept words vary
    held = {w.lower() for w in re.findall(r"[\w'’-]+", EVIDENCE)}
    for short in made:
        words = short.rstrip("?").split()
        assert words[:3] == ["How", "many", "special"]
        assert 2 <= len(words) - 3 < 8  # two content words at least, fewer than asked
        assert all(w.lower() in held and w.lower() not in STOP for w in words[3:])
        assert len(short) < len(question)


def test_the_preposition_before_the_wh_word_goes_and_unshortenable_questions_give_none():
    rng = random.Random(0)
    made = short_question(
        "In which region were the troops trained at military bases?", EVIDENCE, rng
    )
    assert made is not None and made.startswith("which region ")
    assert short_question("Troops were shipped where?", EVIDENCE, rng) is None  # no wh-phrase
    assert short_question("Who is the head of NATO?", EVIDENCE, rng) is None  # nothing held


def test_short_items_keep_answers_and_evidence_of_a_share_of_the_questions():
    rows = [json.loads(line) for line in (ROOT / "eval" / "seed_qa.jsonl").read_text().splitlines()]
    items = [
        QAItem(r["id"], r["question"], tuple(r["answers"]), r["doc"], r["evidence"]) for r in rows
    ]
    answerable = [i for i in items if i.answers]
    made = short_items(items, 0.5, seed=0)
    assert 5 <= len(made) <= round(0.5 * len(answerable))
    by_id = {i.id: i for i in items}
    for short in made:
        original = by_id[short.id.removesuffix("-short")]
        assert short.answers == original.answers and short.evidence == original.evidence
        assert short.doc == original.doc and len(short.question) < len(original.question)
    assert short_items(items, 0.5, seed=0) == made  # fixed seed, same questions
