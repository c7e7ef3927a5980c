"""Training questions in the form a follow-up reaches the reader.

A follow-up ("and where were they taken?") is read completed with the previous turn's key
terms and short answer (qa/read/followup.py): "and where were they taken? troops shipped 1,500".
No SQuAD question has that form, and a model trained on them alone can refuse it. Each
follow-up version here is a training question completed the same way with another question
of the same document and its answer, sometimes opened with "and"; its answers and evidence
are the question's own, so the reader learns that the carried terms are context, not the
thing asked.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from eval.data import QAItem
from qa.read.followup import extended


def followup_question(question: str, previous: QAItem, rng: random.Random) -> str:
    """``question`` completed with ``previous``'s question and first answer, as
    qa/read/followup.py completes a follow-up; half the time opened with "and"."""
    asked = question.strip()
    if rng.random() < 0.5:
        asked = "and " + asked[:1].lower() + asked[1:]
    return extended(asked, f"{previous.question} {previous.answers[0]}")


def followup_items(items: Sequence[QAItem], share: float, seed: int) -> list[QAItem]:
    """Follow-up versions of ``share`` of the answerable ``items`` that have another
    answerable question in their document."""
    rng = random.Random(seed)
    answerable = [i for i in items if i.answers and i.evidence]
    by_doc: dict[str, list[QAItem]] = defaultdict(list)
    for item in answerable:
        by_doc[item.doc].append(item)
    out = []
    for item in rng.sample(answerable, round(share * len(answerable))):
        others = [o for o in by_doc[item.doc] if o.id != item.id]
        if not others:
            continue
        made = followup_question(item.question, rng.choice(others), rng)
        out.append(QAItem(f"{item.id}-followup", made, item.answers, item.doc, item.evidence))
    return out
