"""The packaged embedding model: unit vectors, and bfloat16 (used where the CPU has it
natively) agreeing with fp32 closely enough that an index built in one serves the other."""

import numpy as np

from index.embed import MiniLMEmbedder
from index.split import split_sentences
from tests.conftest import SEED_FILE


def test_bf16_and_fp32_vectors_agree():
    text = SEED_FILE.read_text(encoding="utf-8")
    sentences = [text[s.start : s.end] for s in split_sentences(text)][:12]
    questions = ["How many troops were shipped?", "Who is NATO's chief?"]
    fp32, bf16 = MiniLMEmbedder(bf16=False), MiniLMEmbedder(bf16=True)
    a, b = fp32.encode(sentences + questions), bf16.encode(sentences + questions)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.995
    # a bf16 question finds the same nearest fp32 sentence as an fp32 question does
    n = len(sentences)
    assert list(np.argmax(a[n:] @ a[:n].T, axis=1)) == list(np.argmax(b[n:] @ a[:n].T, axis=1))
