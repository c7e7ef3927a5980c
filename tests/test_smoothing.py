"""The int8 recipes of the reader and the verifier (index/smoothing.py, train/quantize.py):
smoothing changes no output in fp32, the layers it keeps stay fp32 in the int8 graph, the
command writes a recipe the int8 runtime uses (and one for other weights is not used), and
QA_ENCODER_RUNTIME=auto picks by the CPU."""

import json
import shutil

import numpy as np
import onnx
import pytest
import torch

from index.embed import load_embedder
from index.networks import automatic, padded
from index.smoothing import FILE, graph_node, input_maxima, linear_layers, load_recipe, smoothed
from qa.read.cross import CrossModel, cross_graph, load_network
from qa.read.verify import VERIFIER, VERIFIER_RECIPE, Verifier, has_int8_recipe, verifier_graph
from qa.shipped import MODEL_DIR
from tests.conftest import ROOT

PAIRS = [
    ("How many troops were shipped?", "North Korea has shipped 1,500 special forces troops."),
    ("Who is NATO's chief?", "NATO Secretary General Mark Rutte said the troops were there."),
]


def _inputs(tokenizer):
    rows = tokenizer.encode_batch(PAIRS)
    return padded([e.ids for e in rows], [e.type_ids for e in rows])


def test_smoothing_computes_the_same_function_in_fp32():
    recipe = load_recipe(MODEL_DIR)
    assert recipe is not None, "the shipped reader ships its int8 recipe"
    tokenizer = CrossModel(MODEL_DIR, runtime="onnx").tokenizer
    ids, mask, types = (torch.from_numpy(x) for x in _inputs(tokenizer))
    plain, _ = load_network(MODEL_DIR)
    again, _ = load_network(MODEL_DIR)
    with torch.inference_mode():
        want = plain.eval()(ids, mask, types)
        got = smoothed(again.eval(), recipe)(ids, mask, types)
    for a, b in zip(want, got, strict=True):
        assert torch.allclose(a, b, atol=2e-3, rtol=1e-3)
    # every linear layer of the encoder has its scales, one per input channel
    for name, layer in linear_layers(plain).items():
        assert recipe.scales[name].shape == (layer.in_features,)


def test_calibration_takes_each_channels_largest_input_padding_included():
    model, _ = load_network(MODEL_DIR)
    tokenizer = CrossModel(MODEL_DIR, runtime="onnx").tokenizer
    ids, mask, types = _inputs(tokenizer)
    maxima = input_maxima(model.eval(), [(ids, mask, types)])
    # the first layer's queries read the embeddings: their |largest| per channel, over every
    # position (ONNX Runtime's int8 takes one scale over the padded batch)
    with torch.inference_mode():
        embedded = model.bert.embeddings(torch.from_numpy(ids), torch.from_numpy(types))
    want = embedded.abs().reshape(-1, embedded.shape[-1]).amax(0).numpy()
    assert np.allclose(maxima["bert.encoder.layer.0.attention.self.query"], want, rtol=1e-5)
    assert set(maxima) == set(linear_layers(model))


def test_the_int8_graph_keeps_the_recipes_fp32_layers_and_reads_like_fp32(tmp_path):
    recipe = load_recipe(MODEL_DIR)
    graph = cross_graph(MODEL_DIR, tmp_path, "int8")
    assert graph.name.startswith("cross-smoothed-int8-")
    nodes = {n.name: n.op_type for n in onnx.load(str(graph), load_external_data=False).graph.node}
    for name in recipe.keep_fp32:
        assert nodes[graph_node(name)] == "MatMul"  # not replaced by an integer product
    assert sum(op in ("MatMulInteger", "DynamicQuantizeMatMul") for op in nodes.values()) >= 30
    exact = CrossModel(MODEL_DIR, runtime="onnx", graphs=tmp_path)
    near = CrossModel(MODEL_DIR, runtime="int8", graphs=tmp_path)
    for question, sentence in PAIRS:
        [a], [b] = exact.score(question, [sentence]), near.score(question, [sentence])
        assert (a.start, a.end) == (b.start, b.end) and abs(a.relevance - b.relevance) < 0.5


def test_the_quantize_command_writes_a_recipe_the_int8_runtime_uses(tmp_path):
    from train.quantize import TRAIN, main

    if not TRAIN.is_file():
        pytest.skip(f"{TRAIN} is not on this machine")
    model = tmp_path / "reader"
    shutil.copytree(MODEL_DIR, model, ignore=shutil.ignore_patterns(FILE))
    assert load_recipe(model) is None
    # without a recipe int8 is the fp32 graph's plain int8 version
    assert "smoothed" not in cross_graph(model, tmp_path / "g", "int8").name
    recipe = main(["--model", str(model), "--questions", "6", "--keep", "0", "--alphas", "0.85"])
    saved = load_recipe(model)
    assert saved.alpha == recipe.alpha == 0.85 and saved.keep_fp32 == ()
    assert all(np.array_equal(saved.scales[k], v) for k, v in recipe.scales.items())
    assert cross_graph(model, tmp_path / "g", "int8").name.startswith("cross-smoothed-int8-")


def test_the_quantize_command_writes_the_verifiers_recipe_its_int8_runtime_uses(tmp_path, caplog):
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    from train.quantize import TRAIN, main

    if not TRAIN.is_file():
        pytest.skip(f"{TRAIN} is not on this machine")
    model, graphs = tmp_path / "reader", tmp_path / "g"
    shutil.copytree(MODEL_DIR, model, ignore=shutil.ignore_patterns(VERIFIER_RECIPE))
    # without a recipe the verifier reads in fp32 beside an int8 reader
    assert not has_int8_recipe(model) and Verifier(model, "int8", graphs).runtime == "onnx"
    reader_recipe = (model / FILE).read_bytes()
    argv = ["--model", str(model), "--verifier", "--questions", "6", "--keep", "0"]
    recipe = main([*argv, "--alphas", "0.85"])
    saved = load_recipe(model, VERIFIER_RECIPE, VERIFIER)
    assert saved.alpha == recipe.alpha == 0.85 and saved.keep_fp32 == ()
    assert set(saved.scales) == set(linear_layers(load_network(model)[0]))
    assert (model / FILE).read_bytes() == reader_recipe  # the reader's recipe is its own
    verifier = Verifier(model, "int8", graphs)
    assert verifier.runtime == "int8"
    assert verifier_graph(model, graphs, "int8").name.startswith("verifier-smoothed-int8-")
    # it reads as the fp32 verifier does
    question = "How many troops has North Korea shipped to Russia?"
    text = "North Korea has shipped 1,500 special forces troops to Russia. They train there."
    exact = Verifier(model, "onnx", graphs).read(question, text, 0, text.index(" They"))
    read = verifier.read(question, text, 0, text.index(" They"))
    assert text[read.span.start : read.span.end] == text[exact.span.start : exact.span.end]
    assert abs(read.logit - exact.logit) < 0.5
    # the verifier's card and the model card record it
    card = json.loads((model / "verifier.json").read_text(encoding="utf-8"))["int8"]
    assert card["alpha"] == 0.85 and card["command"].endswith("--alphas 0.85")
    assert "int8 recipe of the verifier (verifier-smoothing.safetensors)" in (
        model / "README.md"
    ).read_text(encoding="utf-8")
    # verifier weights trained again into the folder: the recipe is not used
    with safe_open(str(model / VERIFIER), framework="numpy") as f:
        made_for = f.metadata()
    weights = load_file(str(model / VERIFIER))
    name = next(iter(weights))
    weights[name] = weights[name] * 1.01
    save_file(weights, str(model / VERIFIER), made_for)
    assert Verifier(model, "int8", graphs).runtime == "onnx"
    assert "made for other weights" in caplog.text and "--verifier" in caplog.text


def test_the_quantize_command_refuses_a_folder_without_a_reader(tmp_path, capsys):
    from train.quantize import main

    with pytest.raises(SystemExit) as exc:
        main(["--model", str(tmp_path)])
    assert exc.value.code == 2 and "holds no trained reader" in capsys.readouterr().err
    reader = tmp_path / "reader"
    shutil.copytree(MODEL_DIR, reader, ignore=shutil.ignore_patterns("verifier*"))
    with pytest.raises(SystemExit) as exc:
        main(["--model", str(reader), "--verifier"])
    assert exc.value.code == 2 and "holds no verifier" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "machine", "recipe", "runtime"),
    [
        ({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}, "x86_64", True, "int8"),
        ({"avx2"}, "x86_64", True, "int8"),
        (set(), "x86_64", True, "onnx"),  # no AVX2: int8's kernels gain little
        (set(), "aarch64", True, "int8"),
        ({"avx2", "avx512_vnni"}, "x86_64", False, "onnx"),  # no recipe: plain int8 loses
    ],
)
def test_auto_picks_the_runtime_from_the_cpu_and_the_reader(flags, machine, recipe, runtime):
    chosen, why = automatic(flags, machine, recipe)
    assert chosen == runtime and why


def test_the_seed_questions_read_as_in_fp32_with_the_smoothed_int8_reader(seed_index_dir, graphs):
    import json

    from qa.engine import Engine
    from qa.settings import Settings

    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "eval" / "seed_qa.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    answers = {}
    for runtime in ("onnx", "int8"):
        settings = Settings(index_dir=seed_index_dir, onnx_dir=graphs, encoder_runtime=runtime)
        engine = Engine(settings)
        answers[runtime] = [engine.ask(q).answer for q in questions]
    moved = [q for q, a, b in zip(questions, *answers.values(), strict=True) if a != b]
    # measured: one of 54 (docs/scale.md); the bar is at most one
    assert len(questions) >= 50 and len(moved) <= 1, moved


def test_an_int8_server_embeds_uploads_with_its_smoothed_question_embedder(
    fresh_seed_index, graphs, tmp_path
):
    import threading

    from qa.engine import Engine
    from qa.http.documents import add_document
    from qa.settings import Settings

    settings = Settings(
        index_dir=fresh_seed_index, onnx_dir=graphs, files_dir=tmp_path / "files",
        encoder_runtime="int8",
    )  # fmt: skip
    engine = Engine(settings)
    assert engine.embedder.runtime == "int8" and engine.embedder.smoothed
    assert engine.uploads_runtime == "int8"  # as /health says
    assert engine.document_embedder is engine.embedder  # no second model loaded for uploads
    sentence = "The lighthouse keeper counted forty-two gulls on the northern pier at dawn."
    add_document(engine, threading.Lock(), "gulls.txt", sentence.encode(), "test")
    vector = engine.embedder.encode([sentence])[0]
    [hit] = engine.require_store().dense_search("sentence", vector, 1)
    assert hit.score > 0.9999  # stored as the server embeds it
    # and close to fp32's (plain int8's was about 0.98 of the way there: not for documents)
    exact = load_embedder(runtime="onnx", graphs=graphs).encode([sentence])[0]
    assert float(vector @ exact) > 0.995


def test_the_smoothed_int8_embedder_keeps_its_fp32_layers_and_embeds_close_to_fp32(graphs):
    from index.embed import EMBEDDER_RECIPE, minilm_graph, minilm_weights

    recipe = load_recipe(EMBEDDER_RECIPE.parent, EMBEDDER_RECIPE.name, minilm_weights())
    assert recipe is not None, "the embedder ships its int8 recipe"
    graph = minilm_graph(graphs, "int8")
    assert graph.name.startswith("minilm-smoothed-int8-")
    nodes = {n.name: n.op_type for n in onnx.load(str(graph), load_external_data=False).graph.node}
    for name in recipe.keep_fp32:
        assert nodes[graph_node(name)] == "MatMul"
    assert sum(op in ("MatMulInteger", "DynamicQuantizeMatMul") for op in nodes.values()) >= 24
    texts = [s for pair in PAIRS for s in pair] + [
        (ROOT / "seeds").glob("*.txt").__next__().read_text(encoding="utf-8")[:600]
    ]
    exact = load_embedder(runtime="onnx", graphs=graphs).encode(texts)
    near = load_embedder(runtime="int8", graphs=graphs).encode(texts)
    assert (exact * near).sum(axis=1).min() > 0.99


def test_the_embedder_quantize_command_writes_a_recipe_bound_to_the_packaged_weights(
    tmp_path, caplog
):
    from safetensors import safe_open

    from index.embed import minilm_weights
    from index.smoothing import has_recipe
    from train.quantize import TRAIN
    from train.quantize_embedder import main

    if not TRAIN.is_file():
        pytest.skip(f"{TRAIN} is not on this machine")
    out = tmp_path / "models" / "minilm-smoothing.safetensors"
    recipe = main(["--texts", "32", "--keep", "0", "--alphas", "0.85", "--out", str(out)])
    saved = load_recipe(out.parent, out.name, minilm_weights())
    assert saved.alpha == recipe.alpha == 0.85 and saved.keep_fp32 == ()
    assert set(saved.scales) == {
        f"bert.encoder.layer.{k}.{name}"
        for k in range(6)
        for name in (
            "attention.self.query", "attention.self.key", "attention.self.value",
            "attention.output.dense", "intermediate.dense", "output.dense",
        )
    } | {"bert.pooler.dense"}  # fmt: skip
    with safe_open(str(out), framework="numpy") as f:
        meta = f.metadata()
    assert meta["command"].endswith("--alphas 0.85 --out " + str(out))
    assert 0 < float(meta["cosine_least"]) <= 1 and float(meta["speed_of_fp32"]) > 0
    # other weights (another model in the package's place): the recipe is not used
    other = tmp_path / "model.safetensors"
    other.write_bytes(minilm_weights().read_bytes()[:-1] + b" ")
    assert not has_recipe(out.parent, out.name, other, "python -m train.quantize_embedder")
    assert "made for other weights" in caplog.text and "train.quantize_embedder" in caplog.text


def test_a_recipe_made_for_other_weights_is_not_used(tmp_path, caplog):
    from safetensors.numpy import load_file, save_file

    from qa.settings import Settings

    model = tmp_path / "reader"
    shutil.copytree(MODEL_DIR, model)
    assert load_recipe(model) is not None
    weights = load_file(str(model / "model.safetensors"))
    name = next(iter(weights))
    weights[name] = weights[name] * 1.01  # a reader trained again into the folder
    save_file(weights, str(model / "model.safetensors"))
    assert load_recipe(model) is None
    assert "made for other weights" in caplog.text and "train.quantize" in caplog.text
    # auto then answers in fp32 rather than with plain int8
    assert Settings(trained_model_dir=model, encoder_runtime="auto").runtime == "onnx"


@pytest.mark.parametrize(
    ("flags", "machine", "recipe", "runtime"),
    [
        ({"avx2", "avx512_bf16"}, "x86_64", True, "int8"),  # torch's import costs more
        ({"avx2", "avx512_bf16"}, "x86_64", False, "torch"),  # no recipe: bf16 where native
        ({"amx_bf16"}, "x86_64", False, "torch"),
        ({"avx2"}, "x86_64", True, "int8"),
        ({"avx2", "avx512_vnni"}, "x86_64", True, "int8"),
        ({"avx2"}, "x86_64", False, "onnx"),  # no recipe: plain int8 is not for documents
        (set(), "x86_64", True, "onnx"),  # no AVX2: int8's kernels gain little
        (set(), "aarch64", True, "int8"),
    ],
)
def test_documents_are_embedded_in_smoothed_int8_else_bf16_where_native_else_fp32(
    flags, machine, recipe, runtime
):
    from index.networks import for_indexing

    chosen, why = for_indexing(flags, machine, recipe)
    assert chosen == runtime and why
