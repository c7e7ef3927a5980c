"""The cross-encoder's training data: questions split by group, and (question, sentence)
pairs from what the untrained pipeline nominates, labelled by whether the sentence holds a
gold answer and where (``python -m train.train_cross``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tqdm import tqdm

from eval.data import QAItem, group_name
from qa.read.cross import logit
from qa.read.question import Question
from qa.read.rankers.heuristic import rank_sentences
from qa.read.retrieve import HybridRetriever


@dataclass(frozen=True)
class Pair:
    question: int  # index of the question: its pairs are ranked against each other
    text: str
    sentence: str
    label: bool
    answer: tuple[int, int] | None  # characters in the sentence
    prior: float  # the untrained pipeline's logit for the sentence
    ranked: bool  # among the candidates the pipeline nominates (else: span loss only)


def group_of(item: QAItem) -> str:
    return group_name(item.doc)


def split(
    items: Sequence[QAItem], every: int = 3, held: set[str] | None = None
) -> tuple[list[QAItem], list[QAItem], str]:
    """(training items, held-out items, how they were split): the groups ``held``, or
    else every ``every``-th group from the second (with three groups or more)."""
    names = sorted({group_of(i) for i in items})
    if not held and len(names) >= 3:
        held = set(names[1::every])
    if held:
        listed = ", ".join(sorted(held)) if len(held) < 20 else f"{len(held)} of {len(names)}"
        return (
            [i for i in items if group_of(i) not in held],
            [i for i in items if group_of(i) in held],
            f"by group: held out {listed}",
        )
    return (
        [i for n, i in enumerate(items) if n % 5],
        [i for n, i in enumerate(items) if not n % 5],
        "by question (fewer than three groups): every fifth held out",
    )


def locate(sentence: str, answers: Sequence[str]) -> tuple[int, int] | None:
    for answer in answers:
        k = sentence.find(answer)
        if k >= 0:
            return k, k + len(answer)
    lowered = sentence.lower()
    for answer in answers:
        k = lowered.find(answer.lower())
        if k >= 0:
            return k, k + len(answer)
    return None


def holds(sentence: str, answers: Sequence[str]) -> bool:
    return any(a in sentence for a in answers)


def ranked_candidates(items: Sequence[QAItem], retriever: HybridRetriever, top_k: int):
    """The untrained pipeline's ranked (sentence id, probability) per question."""
    out = []
    for item in tqdm(items, desc="retrieving", unit="q", disable=None):
        ranked = rank_sentences(
            Question.of(item.question), retriever.retrieve(item.question, top_k)
        )
        out.append([(s.sentence.id, s.score) for s in ranked])
    return out


def make_pairs(items, ranked, index, candidates: int, gap: float = 1e9) -> list[Pair]:
    """Per question, the pipeline's best ``candidates`` sentences within ``gap`` of the
    best one's logit (ranked against each other: the answerer reads those within a
    narrower gap, so the others would teach it about sentences it never reads), and its
    evidence sentence when they miss it (for the span head only)."""
    pairs = []
    for q, (item, scored) in enumerate(zip(items, ranked)):
        texts = []
        best = logit(scored[0][1]) if scored else 0.0
        for i, p in scored[:candidates]:
            if logit(p) < best - gap:
                break
            t = index.sentence_text(i)
            texts.append(t)
            label = holds(t, item.answers)
            answer = locate(t, item.answers) if label else None
            pairs.append(Pair(q, item.question, t, label, answer, logit(p), True))
        if item.evidence and item.evidence not in texts:
            # a look-alike's (no answers) teaches the span head "no answer here"
            answer = locate(item.evidence, item.answers) if item.answers else None
            label = bool(item.answers)
            pairs.append(Pair(q, item.question, item.evidence, label, answer, 0.0, False))
    return pairs


def encode(tokenizer, pairs: Sequence[Pair], max_length: int) -> list[dict]:
    enc = tokenizer(
        [p.text for p in pairs],
        [p.sentence for p in pairs],
        truncation="longest_first",
        max_length=max_length,
        return_offsets_mapping=True,
    )
    examples = []
    for k, pair in enumerate(pairs):
        seq = enc.sequence_ids(k)
        offsets = enc["offset_mapping"][k]
        start = end = 0  # [CLS]: no answer in this sentence
        if pair.answer is not None:
            a, b = pair.answer
            inside = [
                t for t, s in enumerate(seq) if s == 1 and offsets[t][1] > a and offsets[t][0] < b
            ]
            if inside:
                start, end = inside[0], inside[-1]
        examples.append(
            {
                "input_ids": enc["input_ids"][k],
                "token_type_ids": enc["token_type_ids"][k],
                "label": float(pair.label),
                "start": start,
                "end": end,
                "question": pair.question,
                "prior": pair.prior,
                "ranked": pair.ranked,
            }
        )
    return examples
