"""A small cross-encoder trained in this repository (``python -m train.train_cross``).

The first layers of all-MiniLM-L6-v2 read a (question, sentence) pair together and give,
in one forward pass, how likely the sentence answers the question (a relevance head on
[CLS]) and where the answer starts and ends in it (a span head on every token, [CLS]
standing for "no answer here"). Its relevance is a correction to the untrained pipeline's
score, not a replacement: the sentence's probability is the sigmoid of the pipeline's logit
plus the model's. The weights ship in ``qa/models/cross/`` as fp16 and run in bfloat16 on
CPUs with bf16 instructions (AVX512-BF16, AMX: about twice as fast, the same answers) and
in fp32 elsewhere. When answering it runs on ONNX Runtime (``QA_ENCODER_RUNTIME``,
index/graphs.py), without importing torch: where the CPU suits it (``auto``), in int8 smoothed
by the recipe shipped beside the weights (``smoothing.safetensors``, index/smoothing.py,
``python -m train.quantize``: 0.58x fp32's time, dev13 F1 0.2 lower), else in fp32, twice as
fast as torch's fp32 (docs/scale.md)."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.networks import GRAPHS_DIR, ONNX_RUNTIMES, Runtime, network, padded
from qa.errors import TrainedModelError
from qa.shipped import MODEL_DIR

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

WEIGHTS = "model.safetensors"
NO_SPAN = -1e4  # span score when no span was found
# torch's rows are padded to a multiple of this many tokens: oneDNN's bf16 kernels work in
# tiles of 16 rows, and a few shapes recur instead of one per length (a read took 15-25%
# less time on 300 dev questions, same results); ONNX Runtime was 8% quicker unpadded
PAD_TO = 16


def build_model(config):
    """The network: a BERT encoder with a relevance head and a span head."""
    import torch
    from transformers import BertModel

    class CrossEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel(config, add_pooling_layer=False)
            self.relevance = torch.nn.Linear(config.hidden_size, 1)
            self.span = torch.nn.Linear(config.hidden_size, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            start, end = self.span(hidden).unbind(-1)
            return self.relevance(hidden[:, 0]).squeeze(-1), start, end

    return CrossEncoder()


def load_network(directory: Path, attention: str | None = None):
    """(the network with the fp32 weights in ``directory``, its config); ``attention``: an
    attention implementation of transformers' to use instead of the default."""
    from safetensors.torch import load_file
    from transformers import BertConfig

    config = BertConfig.from_json_file(str(directory / "config.json"))
    if attention is not None:
        config._attn_implementation = attention
    model = build_model(config)
    model.load_state_dict({k: v.float() for k, v in load_file(str(directory / WEIGHTS)).items()})
    return model, config


def pair_inputs(encodings, pad_to: int = 1):
    """(ids, attention mask, token types, context) of (question, sentence) encodings, padded
    together: ``context`` marks the sentence's tokens, where a span may lie."""
    ids, mask, types = padded([e.ids for e in encodings], [e.type_ids for e in encodings], pad_to)
    context = np.zeros(ids.shape, dtype=bool)
    for k, e in enumerate(encodings):
        context[k, : len(e.ids)] = [s == 1 for s in e.sequence_ids]
    return ids, mask, types, context


def best_spans(
    start: np.ndarray, end: np.ndarray, context: np.ndarray, max_tokens: int
) -> list[tuple[int, int, float]]:
    """Per row: the (first token, last token, score) maximising start + end logits over
    spans inside ``context`` (a boolean mask) of at most ``max_tokens`` tokens. The score
    is relative to the row's "no answer" score at token 0; (0, 0, NO_SPAN) without context."""
    out = []
    n = start.shape[1]
    band = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), max_tokens)
    for s, e, c in zip(start, end, context):
        if not c.any():
            out.append((0, 0, NO_SPAN))
            continue
        grid = s[:, None] + e[None, :]
        ok = band & c[:, None] & c[None, :]
        grid = np.where(ok, grid, -np.inf)
        i, j = np.unravel_index(int(np.argmax(grid)), grid.shape)
        out.append((int(i), int(j), float(grid[i, j] - (s[0] + e[0]))))
    return out


@dataclass(frozen=True)
class CrossScore:
    relevance: float  # logit that the sentence holds the answer
    start: int  # the answer's characters in the sentence; -1 when none
    end: int
    span_score: float  # start + end logit of the span over the "no answer" one


class CrossModel:
    """Loads the trained model once; ``score`` scores sentences for a question."""

    def __init__(
        self,
        directory: Path = MODEL_DIR,
        bf16: bool | None = None,
        runtime: Runtime = "torch",
        graphs: Path = GRAPHS_DIR,
        threads: int = 1,
    ) -> None:
        from tokenizers import Tokenizer

        self.directory = directory
        self.meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        self.max_length = int(self.meta["max_length"])
        self.max_answer_tokens = int(self.meta["max_answer_tokens"])
        self.candidates = int(self.meta["candidates"])
        # candidates whose untrained logit trails the best by more than this are not read
        self.gap = float(self.meta.get("gap", 1e9))
        # the tokenizer BertTokenizerFast wraps, called as it calls it (without importing
        # transformers: 1 s)
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length, strategy="longest_first")
        self.runtime = runtime
        self.bf16, self._network = network(
            runtime,
            lambda r: cross_graph(directory, graphs, r),
            lambda: load_network(directory)[0],
            bf16,
            probe,
            threads,
        )
        self.pad_to = 1 if runtime in ONNX_RUNTIMES else PAD_TO

    def score(self, question: str, sentences: Sequence[str]) -> list[CrossScore]:
        """The model's relevance and span for each sentence, in their order. A sentence
        given twice (the same text in two documents) is read once: its scores depend on
        its text and the question alone."""
        if not sentences:
            return []
        distinct = list(dict.fromkeys(sentences))
        if len(distinct) < len(sentences):
            read = dict(zip(distinct, self.score(question, distinct), strict=True))
            return [read[s] for s in sentences]
        # one at a time: a question's few pairs took half the time of encode_batch, whose
        # threads cost more than they save here (the same encodings)
        encodings = [self.tokenizer.encode(question, s) for s in sentences]
        scores: list[CrossScore | None] = [None] * len(sentences)
        # in bf16 a call's fixed cost outweighs padding: the rows go through together
        waste = 1.0 if self.bf16 else 0.25
        for rows in similar_lengths([len(e.ids) for e in encodings], waste):
            for row, found in zip(rows, self._forward([encodings[r] for r in rows])):
                if found.start >= 0:
                    start, end = unattributed(
                        sentences[row], *snap(sentences[row], found.start, found.end)
                    )
                    found = CrossScore(found.relevance, start, end, found.span_score)
                scores[row] = found
        return [r for r in scores if r is not None]

    def _forward(self, encodings) -> list[CrossScore]:
        ids, mask, types, context = pair_inputs(encodings, self.pad_to)
        relevance, start, end = self._network(ids, mask, types)
        spans = best_spans(start, end, context, self.max_answer_tokens)
        out = []
        for k, (i, j, score) in enumerate(spans):
            offsets = encodings[k].offsets
            if score == NO_SPAN:
                out.append(CrossScore(float(relevance[k]), -1, -1, NO_SPAN))
            else:
                out.append(CrossScore(float(relevance[k]), offsets[i][0], offsets[j][1], score))
        return out


def cross_graph(directory: Path, graphs: Path, runtime: Runtime = "onnx") -> Path:
    """The ONNX graph of the model in ``directory``, in the folder ``graphs``; exported first
    if need be. For the int8 runtime: the model smoothed by its int8 recipe
    (``smoothing.safetensors``, index/smoothing.py) with int8 weights, or without a recipe
    the fp32 graph's plain int8 version."""
    from index.graphs import cached_graph, export, quantized
    from index.smoothing import FILE, load_recipe, smoothed_int8_graph

    files = [directory / WEIGHTS, directory / "config.json"]
    outputs = ["relevance", "start", "end"]
    if runtime == "int8":
        recipe = load_recipe(directory)
        if recipe is None:
            return quantized(cross_graph(directory, graphs))
        return smoothed_int8_graph(
            graphs,
            "cross-smoothed-int8",
            files,
            directory / FILE,
            recipe,
            lambda: load_network(directory, attention="eager")[0],
            outputs,
        )

    def exported(out: Path) -> None:
        # eager attention: the pattern ONNX Runtime fuses (index/graphs.py)
        model, _ = load_network(directory, attention="eager")
        export(model, out, outputs)

    return cached_graph(graphs, "cross", files, exported)


def probe(model):
    """The model's outputs for a short made-up pair (``prepack`` compares them)."""
    import torch

    ids = torch.randint(1000, 2000, (1, 16), generator=torch.Generator().manual_seed(0))
    return model(ids, torch.ones_like(ids), torch.zeros_like(ids))


def snap(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to whole words: a span never starts or ends inside a word or a number
    ("500" of "1,500" becomes "1,500"), whatever word pieces the model chose."""

    def inside(k: int) -> bool:  # is the boundary between text[k-1] and text[k] in a word?
        if k <= 0 or k >= len(text):
            return False
        left, right = text[k - 1], text[k]
        if left.isalnum() and right.isalnum():
            return True
        digits = lambda i: 0 <= i < len(text) and text[i].isdigit()
        return (left in ",." and digits(k - 2) and right.isdigit()) or (
            right in ",." and left.isdigit() and digits(k + 1)
        )

    while inside(start):
        start -= 1
    while inside(end):
        end += 1
    return start, end


# a reporting clause closing a span or set off by commas in it: ", it added", ", he said,",
# ", the agency told Reuters"
_REPORTED = re.compile(
    r"\s*,\s*(?:it|he|she|they|we|I|the \w+|[A-Z][\w.’'-]*(?: [A-Z][\w.’'-]*){0,3})\s+"
    r"(?:said|says|added|adds|noted|wrote|told [\w ]{1,30}?)(?=,|$)"
)


def unattributed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span up to a reporting clause ("all available means, it added" or "all available
    means, it added, without elaborating" -> "all available means"): who said it is the
    citation's, not the answer's, and what follows it is not the answer either."""
    found = _REPORTED.search(text, start, end)
    if found is None or found.start() <= start:
        return start, end
    return start, found.start()


def similar_lengths(lengths: list[int], waste: float = 0.25) -> list[list[int]]:
    """Rows grouped so padding each group to its longest adds at most ``waste`` of its
    tokens: one padded batch of a short and a long sentence costs more on a CPU than two."""
    groups: list[list[int]] = []
    group: list[int] = []
    for row in sorted(range(len(lengths)), key=lambda r: lengths[r]):
        candidate = [*group, row]
        if group and len(candidate) * lengths[row] > (1 + waste) * sum(
            lengths[r] for r in candidate
        ):
            groups.append(group)
            candidate = [row]
        group = candidate
    if group:
        groups.append(group)
    return groups


def pad(input_ids: Sequence[Sequence[int]], token_type_ids: Sequence[Sequence[int]]):
    """(ids, attention mask, token types) as tensors padded to the longest row, rounded up
    to a multiple of ``PAD_TO`` tokens: what the model takes in training."""
    import torch

    return tuple(torch.from_numpy(x) for x in padded(input_ids, token_type_ids, PAD_TO))


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@lru_cache(maxsize=4)
def load_cross_model(
    directory: Path = MODEL_DIR,
    runtime: Runtime = "torch",
    graphs: Path = GRAPHS_DIR,
    threads: int = 1,
) -> CrossModel:
    """The trained model in ``directory``, loaded once; TrainedModelError when it cannot
    be."""
    from safetensors import SafetensorError

    from index.errors import GraphError

    try:
        return CrossModel(directory, runtime=runtime, graphs=graphs, threads=threads)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError, GraphError) as exc:
        raise TrainedModelError(
            f"cannot load the trained model in {directory} ({type(exc).__name__}: {exc}); "
            "retrain it (python -m train.train_cross) or set QA_TRAINED_MODEL=false"
        ) from exc
