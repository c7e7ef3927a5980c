"""Word statistics of the visible documents in Milvus, kept per document version so a change
costs only what changed: BM25's (units, lengths, document frequencies, per kind) and the
overlap features' IDF (sentences holding each term or term pair).

Milvus finds the BM25 candidates; their scores are then computed here, over every visible
unit, with bm25s's formula (Lucene's IDF, k1 1.5, b 0.75). Milvus's own scores are not
used as they are: Milvus Lite keeps statistics per segment (and over the filtered rows of
those not yet sealed), so the same unit scores differently as segments come and go."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from index.tokens import terms

K1, B = 1.5, 0.75
KINDS = ("sentence", "passage")


@dataclass
class KeyStats:
    """One document version's share of the statistics."""

    held: Counter = field(default_factory=Counter)  # sentences holding a term or pair
    df: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    length: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    units: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add_unit(self, kind: str, encoded_terms: str, text: str | None = None) -> None:
        tokens = encoded_terms.split()
        self.df[kind].update(set(tokens))
        # an empty unit counts one token, as in bm25s (index.build gives it a placeholder)
        self.length[kind] += len(tokens) or 1
        self.units[kind] += 1
        if text is not None:
            ts = terms(text)
            self.held.update(set(ts) | {f"{a} {b}" for a, b in itertools.pairwise(ts)})


@dataclass(frozen=True)
class Statistics:
    by_key: dict[str, KeyStats]
    held: Counter
    df: dict[str, Counter]
    length: dict[str, int]
    units: dict[str, int]

    @classmethod
    def empty(cls) -> Statistics:
        return cls({}, Counter(), {k: Counter() for k in KINDS}, dict.fromkeys(KINDS, 0),
                   dict.fromkeys(KINDS, 0))  # fmt: skip

    def changed(self, keep: Iterable[str], new: dict[str, KeyStats]) -> Statistics:
        """These statistics with only the versions ``keep`` of the old ones, plus ``new``."""
        keep = set(keep)
        by_key = {k: s for k, s in self.by_key.items() if k in keep}
        gone = [s for k, s in self.by_key.items() if k not in keep]
        held, df = Counter(self.held), {k: Counter(c) for k, c in self.df.items()}
        length, units = dict(self.length), dict(self.units)
        for s, sign in [(s, -1) for s in gone] + [(s, 1) for s in new.values()]:
            (held.update if sign > 0 else held.subtract)(s.held)
            for kind in KINDS:
                (df[kind].update if sign > 0 else df[kind].subtract)(s.df[kind])
                length[kind] += sign * s.length[kind]
                units[kind] += sign * s.units[kind]
        by_key.update(new)
        return Statistics(by_key, +held, {k: +c for k, c in df.items()}, length, units)

    def bm25(self, kind: str, query: Sequence[str], unit_terms: str) -> float:
        """The BM25 score of a unit (its encoded terms) for the encoded query terms; a
        repeated query term counts each time."""
        n = self.units[kind]
        if not n:
            return 0.0
        tf = Counter(unit_terms.split())
        dl = sum(tf.values()) or 1
        avgdl = self.length[kind] / n
        score = 0.0
        for q in query:
            f = tf.get(q, 0)
            if f:
                df = self.df[kind].get(q, 0)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * f / (f + K1 * (1 - B + B * dl / avgdl))
        return score
