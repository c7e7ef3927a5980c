"""Pure metric functions: SQuAD v1.1 answer scoring, gold-document rank, evidence
support, percentiles. No I/O, no state."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """The official SQuAD v1.1 normalisation: lower case, drop punctuation, drop the
    articles a/an/the as whole words, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    """Bag-of-tokens F1 between the normalised strings (0 when either is empty)."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def best_em(prediction: str | None, golds: Sequence[str]) -> float:
    """Max EM over the gold answers. With no gold answers the question is unanswerable
    and only an empty prediction (a refusal) is right, as in SQuAD 2.0."""
    if not golds:
        return float(not prediction)
    return max(exact_match(prediction or "", g) for g in golds)


def best_f1(prediction: str | None, golds: Sequence[str]) -> float:
    if not golds:
        return float(not prediction)
    return max(f1(prediction or "", g) for g in golds)


def contains_answer(text: str, golds: Iterable[str]) -> bool:
    """Whether a normalised gold answer occurs in the normalised text as whole tokens
    ("39" is not found in "739")."""
    haystack = f" {normalize_answer(text)} "
    return any((needle := normalize_answer(g)) and f" {needle} " in haystack for g in golds)


def covers(span: tuple[int, int], target: tuple[int, int], min_share: float = 0.5) -> bool:
    """Whether ``span`` overlaps at least ``min_share`` of ``target`` (character offsets);
    sentence splitters differ, so a citation that is most of the gold sentence counts."""
    start, end = max(span[0], target[0]), min(span[1], target[1])
    length = target[1] - target[0]
    return length > 0 and end - start >= min_share * length


def doc_rank(ranked_doc_ids: Iterable[str], gold_doc: str) -> int | None:
    """1-based rank of the gold document among the distinct documents in retrieval
    order (a document retrieved through several passages counts once), or None."""
    seen: list[str] = []
    for doc_id in ranked_doc_ids:
        if doc_id not in seen:
            seen.append(doc_id)
            if doc_id == gold_doc:
                return len(seen)
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    return mean([float(r is not None and r <= k) for r in ranks])


def mrr(ranks: Sequence[int | None]) -> float:
    return mean([1.0 / r if r else 0.0 for r in ranks])


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def share(flags: Sequence[bool]) -> float:
    return mean([float(f) for f in flags])


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
