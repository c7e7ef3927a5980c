"""The encoders' ONNX graphs (index/graphs.py): exported once per weights into the cache
folder, equal to the torch network they come from, a damaged one a clear error; and a
server that answers with them never imports torch."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from index.errors import GraphError
from index.graphs import Graph, cached_graph, export
from tests.conftest import ROOT


class Tiny(torch.nn.Module):
    """Token embeddings, masked, through one linear layer: the inputs the encoders take."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = torch.nn.Embedding(2000, 8)
        self.out = torch.nn.Linear(8, 2)

    def forward(self, input_ids, attention_mask, token_type_ids):
        x = self.embed(input_ids) * attention_mask.unsqueeze(-1) + token_type_ids.unsqueeze(-1)
        return self.out(x)


def test_a_graph_is_exported_once_per_weights_and_computes_as_torch(tmp_path):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"one")
    exports = []

    def exported(path):
        exports.append(path)
        export(Tiny(), path, ["out"])

    first = cached_graph(tmp_path / "cache", "tiny", [weights], exported)
    assert cached_graph(tmp_path / "cache", "tiny", [weights], exported) == first
    assert len(exports) == 1 and [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]
    weights.write_bytes(b"two")  # retrained: a new graph beside the old
    assert cached_graph(tmp_path / "cache", "tiny", [weights], exported) != first
    assert len(exports) == 2

    ids = np.array([[5, 7, 9, 0], [3, 0, 0, 0]], dtype=np.int64)
    mask, types = (ids > 0).astype(np.int64), np.zeros_like(ids)
    (got,) = Graph(first)(ids, mask, types)
    with torch.inference_mode():
        want = Tiny()(*(torch.from_numpy(x) for x in (ids, mask, types))).numpy()
    assert got.shape == want.shape == (2, 4, 2) and np.allclose(got, want, atol=1e-6)


def test_a_damaged_graph_is_a_clear_error(tmp_path):
    path = tmp_path / "tiny.onnx"
    path.write_bytes(b"not a graph")
    with pytest.raises(GraphError, match="delete it"):
        Graph(path)


def test_answering_with_onnx_runtime_never_imports_torch(seed_index_dir, graphs):
    script = f"""
import sys
from pathlib import Path
from qa.engine import Engine
from qa.settings import Settings
engine = Engine(Settings(index_dir=Path({str(seed_index_dir)!r}), onnx_dir=Path({str(graphs)!r})))
print(engine.ask("How many troops were shipped?").answer)
heavy = ("torch", "transformers", "sentence_transformers", "sklearn", "spacy")
print(*sorted(m for m in heavy if m in sys.modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["1,500", ""]


def test_int8_graphs_are_made_once_beside_their_graphs_and_answer_alike(
    tmp_path, seed_index_dir, graphs
):
    from index.embed import load_embedder, minilm_graph
    from index.graphs import quantized
    from qa.engine import Engine
    from qa.settings import Settings

    folder = tmp_path / "onnx"
    folder.mkdir()
    for graph in graphs.glob("*.onnx"):
        (folder / graph.name).symlink_to(graph)
    settings = Settings(index_dir=seed_index_dir, onnx_dir=folder, encoder_runtime="int8")
    engine = Engine(settings)
    # int8 moves the cross-encoder's scores a little (docs/scale.md): a plainly answered
    # question reads as in fp32
    result = engine.ask("Who is NATO's chief?")
    assert result.answer == "Mark Rutte"
    cited = result.citations[0]
    assert engine.require_store().document(cited.doc_id).text[cited.start : cited.end] == cited.text

    fp32 = minilm_graph(folder)
    int8 = quantized(fp32)
    made = int8.stat().st_mtime_ns
    assert quantized(fp32) == int8 and int8.stat().st_mtime_ns == made  # made once
    assert int8.parent == folder and int8.stat().st_size < fp32.stat().st_size / 3
    texts = ["How many troops were shipped?", "The ship carried 1,500 troops to the port."]
    near = load_embedder(runtime="int8", graphs=folder).encode(texts)
    exact = load_embedder(runtime="onnx", graphs=folder).encode(texts)
    assert np.all((near * exact).sum(axis=1) > 0.98)
