"""Inverted lists of one segment: for every key (a term, or two adjacent terms joined by a
space) the units that hold it and how often, saved as flat arrays and memory-mapped when
read, so nothing is rebuilt at start-up.

BM25 is scored from these over every segment at once (``bm25_scores``), with statistics
(document frequency, average length) of the live units of all segments: the scores are
those of one BM25 index over the whole collection (bm25s's Lucene variant, k1 1.5, b 0.75,
checked against bm25s in tests/test_segments.py), however the units are split into
segments and whatever was deleted."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.75
EMPTY = "\x00"  # stands for a unit without terms (bm25s gave it one token; so does this)


def key_hash(key: str) -> int:
    """A stable 64-bit key: the vocabulary is a sorted array of these, not a dict of
    strings to rebuild at every start (two keys colliding: about 1 in 10^19 per pair)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Postings:
    keys: np.ndarray  # uint64 key hashes, sorted
    indptr: np.ndarray  # int64, len(keys) + 1: the slice of units/tf of each key
    units: np.ndarray  # int32 unit numbers (within the segment), ascending per key
    tf: np.ndarray  # float32 occurrences of the key in the unit
    lengths: np.ndarray  # int32 per unit: its terms (not pairs), the length BM25 divides by

    @classmethod
    def build(cls, terms: Sequence[Sequence[str]], pairs: Sequence[Sequence[str]] = ()) -> Postings:
        """``terms[u]``: the terms of unit u (repeats counted); ``pairs[u]``: more keys it
        holds (adjacent term pairs) that count for document frequency, not for its length."""
        vocab: dict[str, int] = {}
        key_of, unit_of = [], []
        for u, ts in enumerate(terms):
            keys = list(ts) or [EMPTY]
            if pairs:
                keys += pairs[u]
            for key in keys:
                key_of.append(vocab.setdefault(key, len(vocab)))
                unit_of.append(u)
        n = len(terms)
        hashes = np.fromiter((key_hash(k) for k in vocab), dtype=np.uint64, count=len(vocab))
        order = np.argsort(hashes, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        pair = rank[np.asarray(key_of, dtype=np.int64)] * max(n, 1) + np.asarray(unit_of, np.int64)
        pair, tf = np.unique(pair, return_counts=True)  # sorted by (key rank, unit)
        key_rank, unit = np.divmod(pair, max(n, 1))
        return cls(
            keys=hashes[order],
            indptr=np.searchsorted(key_rank, np.arange(len(vocab) + 1)).astype(np.int64),
            units=unit.astype(np.int32),
            tf=tf.astype(np.float32),
            lengths=np.array([max(len(ts), 1) for ts in terms], dtype=np.int32),
        )

    def save(self, folder: Path, name: str) -> None:
        for field in ("keys", "indptr", "units", "tf", "lengths"):
            np.save(folder / f"{name}.{field}.npy", getattr(self, field))

    @classmethod
    def load(cls, folder: Path, name: str) -> Postings:
        return cls(
            **{
                field: np.asarray(np.load(folder / f"{name}.{field}.npy", mmap_mode="r"))
                for field in ("keys", "indptr", "units", "tf", "lengths")
            }
        )

    def lookup(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The units holding ``key`` and its counts there (empty when none)."""
        h = np.uint64(key_hash(key))
        k = int(np.searchsorted(self.keys, h))
        if k == len(self.keys) or self.keys[k] != h:
            return _NONE, _NONE_TF
        start, end = int(self.indptr[k]), int(self.indptr[k + 1])
        return np.asarray(self.units[start:end]), np.asarray(self.tf[start:end])


_NONE = np.zeros(0, dtype=np.int32)
_NONE_TF = np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class Part:
    """One segment's postings of a kind and which of its units are live (not deleted)."""

    postings: Postings
    live: np.ndarray  # bool per unit
    live_length: int  # sum of the live units' lengths


def part(postings: Postings, live: np.ndarray) -> Part:
    return Part(postings, live, int(np.asarray(postings.lengths)[live].sum()))


def document_frequencies(parts: Sequence[Part], keys: Sequence[str]) -> list[int]:
    out = []
    for key in keys:
        df = 0
        for p in parts:
            units, _ = p.postings.lookup(key)
            df += int(p.live[units].sum()) if len(units) else 0
        out.append(df)
    return out


def bm25_scores(parts: Sequence[Part], terms: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per part, the live units scoring above 0 for ``terms`` and their scores."""
    n = sum(int(p.live.sum()) for p in parts)
    if n == 0 or not terms:
        return [(_NONE, _NONE_TF) for _ in parts]
    avg = sum(p.live_length for p in parts) / n
    counts = Counter(terms)
    found = [[p.postings.lookup(t) for t in counts] for p in parts]
    dfs = [0] * len(counts)
    for p, per in zip(parts, found, strict=True):
        for i, (units, _) in enumerate(per):
            dfs[i] += int(p.live[units].sum())
    out = []
    for p, per in zip(parts, found, strict=True):
        ids_parts, score_parts = [], []
        lengths = p.postings.lengths
        for (units, tf), df, repeat in zip(per, dfs, counts.values(), strict=True):
            if not len(units) or df == 0:
                continue
            keep = p.live[units]
            units, tf = units[keep], tf[keep]
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            norm = K1 * ((1 - B) + B * np.asarray(lengths[units], dtype=np.float32) / avg)
            ids_parts.append(units)
            score_parts.append((repeat * idf) * tf / (norm + tf))
        if not ids_parts:
            out.append((_NONE, _NONE_TF))
            continue
        ids, inverse = np.unique(np.concatenate(ids_parts), return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate(score_parts), minlength=len(ids))
        out.append((ids, scores.astype(np.float32)))
    return out
