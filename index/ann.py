"""Approximate nearest-neighbour search for large segments.

Below ``ann_above`` units a segment is searched exactly (one matrix-vector product over
its memory-mapped vectors, which is what FAISS's flat index does too). Above it, a FAISS
index made by a factory string (``QA_ANN_INDEX``) proposes candidates from compressed
vectors and the exact vectors re-score them (their rows read from the file, index.rows),
so the scores returned are exact and only the candidate list is approximate. The default
and the figures behind it: docs/scale.md."""

from __future__ import annotations

import math

import faiss
import numpy as np

from index.rows import Rows

# how many candidates the approximate index proposes per result wanted
OVERFETCH = 8
# search-time breadth: HNSW's efSearch, IVF's nprobe (set when the index has them)
SEARCH_PARAMS = {"efSearch": 128, "nprobe": 128}
TRAIN_SAMPLE = 100_000


def lists_for(n: int) -> int:
    """IVF lists for ``n`` vectors: about 4 sqrt(n), a power of two."""
    return 2 ** max(4, round(math.log2(4 * math.sqrt(max(n, 1)))))


def build_ann(vectors: np.ndarray, factory: str) -> faiss.Index:
    """An inner-product index of ``vectors`` made by ``factory`` (e.g. "IVF{nlist},SQ8",
    whose ``{nlist}`` is filled in by ``lists_for``, or "HNSW32_SQ8"), trained on a
    sample when it needs training."""
    factory = factory.replace("{nlist}", str(lists_for(len(vectors))))
    index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        try:  # 10 rounds of k-means instead of 25: the lists barely move after that
            faiss.extract_index_ivf(index).cp.niter = 10
        except RuntimeError:
            pass  # not an IVF index
        rng = np.random.default_rng(0)
        rows = np.sort(rng.choice(len(vectors), min(len(vectors), TRAIN_SAMPLE), replace=False))
        index.train(np.ascontiguousarray(vectors[rows], dtype=np.float32))
    step = 65_536  # added in slices: a memory-mapped matrix is never read whole at once
    for start in range(0, len(vectors), step):
        index.add(np.ascontiguousarray(vectors[start : start + step], dtype=np.float32))
    return index


def tune(index: faiss.Index) -> faiss.Index:
    space = faiss.ParameterSpace()
    for name, value in SEARCH_PARAMS.items():
        try:
            space.set_index_parameter(index, name, value)
        except RuntimeError:
            pass  # the index has no such parameter (e.g. nprobe for HNSW)
    return index


def search(
    index: faiss.Index, rows: Rows | np.ndarray, vector: np.ndarray, k: int, live=None
) -> tuple[np.ndarray, np.ndarray]:
    """The units ``index`` proposes for the ``k`` nearest to ``vector`` (ascending; only
    those ``live`` marks, if given) and their exact scores, from their rows of the vectors."""
    units = np.sort(candidates(tune(index), vector, k))
    if live is not None:
        units = units[live[units]]
    return units, np.asarray(rows[units]) @ vector


def candidates(index: faiss.Index, vector: np.ndarray, k: int) -> np.ndarray:
    """Unit numbers the approximate index proposes for the ``k`` nearest."""
    _, ids = index.search(vector[None, :].astype(np.float32), max(k * OVERFETCH, 64))
    found = ids[0]
    return found[found >= 0]
