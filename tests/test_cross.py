"""The trained cross-encoder (qa/read/cross.py, qa/models/cross): what ships loads offline and
reranks and reads; the answerer falls back to the heuristics without it; the training
command runs end to end on a small Q&A set and its output loads."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from qa.engine import Engine
from qa.read.cross import (
    MODEL_DIR,
    NO_SPAN,
    WEIGHTS,
    CrossModel,
    best_spans,
    load_cross_model,
    load_network,
)
from qa.read.rankers.cross import rerank
from qa.settings import Settings
from tests.conftest import ROOT, SEEDS
from tests.test_quality import sentence_with
from train import train_cross
from train.checkpoint import CHECKPOINT, Interrupted


@pytest.fixture(scope="module")
def model() -> CrossModel:
    return load_cross_model(MODEL_DIR)  # the trained weights are committed


def test_shipped_model_is_compact_and_documented():
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir() if p.is_file())
    assert size <= 60 * 1024 * 1024
    card = (MODEL_DIR / "README.md").read_text(encoding="utf-8")
    meta = json.loads((MODEL_DIR / "meta.json").read_text(encoding="utf-8"))
    assert "CC BY-SA 4.0" in card and str(meta["heldout"]["evidence_hit@1_reranked"]) in card
    assert (MODEL_DIR / "abstain.json").is_file()


@pytest.mark.parametrize(
    "question, fragment, expected",
    [
        ("How many troops were shipped?", "North Korea has shipped 1,500", "1,500"),
        ("Who is NATO's chief?", "Mark Rutte", "Mark Rutte"),
        ("How many active duty troops does North Korea have?", "1.28 million", "1.28 million"),
    ],
)
def test_model_ranks_the_answering_sentence_first_and_reads_the_span(
    model, question, fragment, expected
):
    others = [sentence_with("Vessels belonging"), sentence_with("partnership")]
    answering = sentence_with(fragment)
    sentences = [*others, answering]
    # the pipeline has no preference here: the model alone puts the answer first, far
    # above the others (its score corrects the pipeline's preference: alone it is no
    # calibrated probability; the engine's is, in the test below)
    (best, probability, read), *rest = rerank(model, question, sentences, [0.5, 0.5, 0.5])
    assert sentences[best] == answering and probability < 1.0
    assert all(probability > 2 * p for _, p, _ in rest)
    assert answering[read.start : read.end] == expected


def test_bf16_and_fp32_read_alike():
    # bfloat16 is used where the CPU has it natively; it must not change what is read
    sentences = [sentence_with(f) for f in ("North Korea has shipped 1,500", "Mark Rutte")]
    question = "How many troops were shipped?"
    fp32, bf16 = (CrossModel(MODEL_DIR, bf16=b).score(question, sentences) for b in (False, True))
    assert [(r.start, r.end) for r in fp32] == [(r.start, r.end) for r in bf16]
    assert np.allclose([r.relevance for r in fp32], [r.relevance for r in bf16], atol=0.25)


def test_onnx_runtime_scores_as_torch_fp32_does(graphs):
    # the default runtime when answering (QA_ENCODER_RUNTIME=onnx) computes in fp32
    question = "How many troops were shipped?"
    sentences = [
        sentence_with(f)
        for f in ("North Korea has shipped 1,500", "Mark Rutte", "Vessels belonging", "1.28")
    ]
    sentences.append("Zoë Müller sold 2,400 crêpes in März. " * 20)  # truncated at 128 tokens
    torch_fp32 = CrossModel(MODEL_DIR, bf16=False).score(question, sentences)
    onnx = CrossModel(MODEL_DIR, runtime="onnx", graphs=graphs).score(question, sentences)
    assert [(r.start, r.end) for r in onnx] == [(r.start, r.end) for r in torch_fp32]
    assert np.allclose([r.relevance for r in onnx], [r.relevance for r in torch_fp32], atol=1e-3)
    assert np.allclose([r.span_score for r in onnx], [r.span_score for r in torch_fp32], atol=1e-3)


def test_spans_are_character_offsets_into_the_sentence(model):
    sentence = "Zoë Müller, the café’s owner since 1998, sold 2,400 crêpes in März."
    (read,) = model.score("How many crêpes did Zoë Müller sell?", [sentence])
    assert 0 <= read.start < read.end <= len(sentence)
    assert sentence[read.start : read.end] == "2,400"


def test_best_spans_keeps_to_the_context_and_the_length_limit():
    start = np.array([[5.0, 0.0, 1.0, 9.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    end = np.array([[5.0, 0.0, 0.0, 0.0, 8.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    context = np.array([[False, False, True, True, True], [False] * 5])
    # token 0 (the best start and end overall) is not context; the best span is 3..4
    assert best_spans(start, end, context, max_tokens=5)[0] == (3, 4, 17.0 - 10.0)
    # at most one token long: the best single token is 3 (9 + 0) against 4 (0 + 8)
    assert best_spans(start, end, context, max_tokens=1)[0][:2] == (3, 3)
    assert best_spans(start, end, context, max_tokens=5)[1] == (0, 0, NO_SPAN)


def test_answerer_uses_the_model_and_falls_back_without_it(tmp_path, seed_index_dir, embedder):
    trained = Engine(Settings(index_dir=seed_index_dir), embedder)
    assert trained.backend.ranking == "cross"
    heuristic = Engine(Settings(index_dir=seed_index_dir, trained_model_dir=tmp_path), embedder)
    assert heuristic.backend.ranking == "heuristic"
    for engine in (trained, heuristic):
        result = engine.ask("How many troops were shipped?")
        assert result.answer == "1,500"
        # answered with room to spare above the refusal threshold (the trained model's
        # refusals, fitted on SQuAD 2.0's look-alikes, put its probabilities lower)
        assert result.evidence_score > engine.backend.abstainer.below + 0.05
        cited = result.citations[0]
        doc = engine.require_store().document(cited.doc_id)
        assert doc.text[cited.start : cited.end] == cited.text


def test_training_command_stops_resumes_and_writes_a_model_that_loads(
    tmp_path, seed_index_dir, capsys
):
    out = tmp_path / "model"
    argv = [
        "--qa", str(ROOT / "eval" / "seed_qa.jsonl"),
        "--docs", str(SEEDS),
        "--index-dir", str(seed_index_dir),
        "--out", str(out),
        "--layers", "1",
        "--epochs", "2",
        "--batch", "8",
        "--synthetic", "1",
        "--look-alikes", "0.5",
        "--look-alike-pairs", "evidence",
        "--short-questions", "0.5",
        "--followup-questions", "0.5",
        "--no-abstention",
    ]  # fmt: skip
    with pytest.raises(Interrupted):
        train_cross.main([*argv, "--stop-after", "2"])
    assert (out / CHECKPOINT).is_file()
    train_cross.main(argv)
    assert "resumed at batch 2 of epoch 1" in capsys.readouterr().out
    assert not (out / CHECKPOINT).exists()
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["trained_on"]["split"].startswith("by question")
    assert meta["trained_on"]["synthetic_questions"] > 10
    assert meta["trained_on"]["look_alike_questions"] > 0
    assert meta["trained_on"]["look_alike_pairs"] == "evidence"
    assert meta["trained_on"]["short_questions"] > 5
    assert meta["trained_on"]["followup_questions"] > 5
    assert len(meta["training"]["loss_per_epoch"]) == 2
    assert 0.0 <= meta["heldout"]["evidence_hit@1_reranked"] <= 1.0
    assert (out / WEIGHTS).is_file() and (out / "README.md").is_file()
    reads = CrossModel(out).score("How many troops were shipped?", ["It shipped 1,500 troops."])
    assert len(reads) == 1 and np.isfinite(reads[0].relevance)

    # a trained model goes on learning from its own weights (--from)
    further = tmp_path / "further"
    train_cross.main([*argv, "--from", str(out), "--epochs", "1", "--out", str(further)])
    meta = json.loads((further / "meta.json").read_text(encoding="utf-8"))
    assert meta["base"].endswith(f"trained further from {out}")
    before, after = CrossModel(out), CrossModel(further)
    question, sentences = "How many troops were shipped?", ["It shipped 1,500 troops."]
    assert (
        before.score(question, sentences)[0].relevance
        != after.score(question, sentences)[0].relevance
    )


def test_a_damaged_model_is_a_clear_error(tmp_path, embedder):
    from qa.errors import TrainedModelError
    from qa.read.answerers import Backend

    for name in ("meta.json", "config.json", "tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((MODEL_DIR / name).read_bytes())
    (tmp_path / WEIGHTS).write_bytes(b"not a safetensors file")
    with pytest.raises(TrainedModelError, match="QA_TRAINED_MODEL=false"):
        Backend(Settings(trained_model_dir=tmp_path), embedder)


def test_a_trained_model_without_its_refusal_model_is_a_clear_error(
    tmp_path, seed_index_dir, embedder
):
    """Never the heuristics' refusal weights applied to the trained model's scores."""
    from qa.errors import TrainedModelError

    for path in MODEL_DIR.iterdir():
        if path.name != "abstain.json":
            (tmp_path / path.name).write_bytes(path.read_bytes())
    settings = Settings(index_dir=seed_index_dir, trained_model_dir=tmp_path)
    with pytest.raises(TrainedModelError, match="train.fit_abstain"):
        Engine(settings, embedder)


def test_a_sentence_given_twice_is_read_once_with_the_same_scores(model, monkeypatch):
    first, other = sentence_with("North Korea has shipped 1,500"), sentence_with("Mark Rutte")
    alone = model.score("How many troops were shipped?", [first, other])
    rows = []
    forward = model._forward
    monkeypatch.setattr(model, "_forward", lambda enc: rows.extend(enc) or forward(enc))
    twice = model.score("How many troops were shipped?", [first, other, first])
    assert twice == [alone[0], alone[1], alone[0]] and len(rows) == 2


def test_a_batch_of_pairs_read_only_for_their_span_has_a_finite_loss():
    # the pipeline nominated none of these pairs: no relevance term, not a NaN one
    import torch

    model, _ = load_network(MODEL_DIR)
    pair = {"input_ids": [101, 2129, 2116, 102, 1015, 1010, 3156, 102],
            "token_type_ids": [0, 0, 0, 0, 1, 1, 1, 1],
            "label": 1.0, "start": 4, "end": 6, "prior": 0.0, "ranked": False}  # fmt: skip
    batch = [{**pair, "question": 0}, {**pair, "question": 1, "label": 0.0}]
    args = SimpleNamespace(bf16=False)
    bce, ce = torch.nn.BCEWithLogitsLoss(), torch.nn.CrossEntropyLoss(reduction="sum")
    loss = train_cross.step_loss(model, batch, args, bce, ce)
    assert torch.isfinite(loss) and loss.item() > 0
    loss.backward()


@pytest.mark.parametrize(
    ("span", "answer"),
    [
        ("all available means, it added", "all available means"),
        ("eight million rounds, the agency told Reuters", "eight million rounds"),
        ("the war, Yoon Suk Yeol said", "the war"),
        ("Smith, Jones and Brown", "Smith, Jones and Brown"),  # no reporting verb
        ("he said", "he said"),  # nothing before it: left as read
        # set off by commas inside the span: what comes after it is not the answer either
        ("all available means, it added, without delay", "all available means"),
        ("Smith, who said nothing", "Smith, who said nothing"),
    ],
)
def test_a_span_closing_with_who_said_it_loses_that_clause(span, answer):
    from qa.read.cross import unattributed

    sentence = f"South Korea will respond with {span}, without elaborating."
    start = sentence.index(span)
    a, b = unattributed(sentence, start, start + len(span))
    assert sentence[a:b] == answer
