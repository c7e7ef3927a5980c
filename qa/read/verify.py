"""Whether the best sentence really answers the question: a verifier trained on SQuAD 2.0's
real unanswerable questions (``python -m train.train_verifier``) reads the question with the
sentence and its neighbours and gives a logit that they answer it; the abstainer weighs it
with the other evidence (qa.read.abstain, feature "verified").

The verifier is the reader's network with its last layers and heads trained again
(``verifier.safetensors`` beside the reader's weights, made for those weights: the first
layers and the embeddings are the reader's own, so it ships as a few MB). It runs as the
reader does (``QA_ENCODER_RUNTIME``): ONNX Runtime in fp32 or int8 (plain dynamic int8: it
gives one score, not a span), or torch."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from index.networks import GRAPHS_DIR, Runtime, network, padded
from qa.errors import TrainedModelError
from qa.read.retrieve import Retrieval
from qa.read.roles import RankedSentence

WIDTH = 1  # sentences read on each side of the best one
MAX_LENGTH = 192  # tokens of question and window read
VERIFIER = "verifier.safetensors"  # beside the reader's weights
VERIFIER_META = "verifier.json"


def window(spans: Sequence[tuple[int, int]], i: int, width: int = WIDTH) -> tuple[int, int]:
    """(start, end) of sentence ``i`` with ``width`` neighbours either side, of ``spans``
    (each sentence's (start, end), in order)."""
    return spans[max(0, i - width)][0], spans[min(len(spans) - 1, i + width)][1]


def window_text(ranked: RankedSentence, retrieval: Retrieval) -> str:
    """The ranked sentence with its neighbours in its passage (instruction-like sentences
    left out: the window stops before them)."""
    passage = retrieval.passages[ranked.passage_rank]
    sentences = passage.sentences
    i = next((k for k, s in enumerate(sentences) if s.id == ranked.sentence.id), None)
    if i is None:
        return ranked.sentence.text
    lo = hi = i
    while lo > max(0, i - WIDTH) and not sentences[lo - 1].flagged:
        lo -= 1
    while hi < min(len(sentences) - 1, i + WIDTH) and not sentences[hi + 1].flagged:
        hi += 1
    start, end = sentences[lo].start, sentences[hi].end
    return passage.text[start - passage.start : end - passage.start]


def reader_digest(path: Path) -> str | None:
    """The digest of the reader's weights a verifier file was made for."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return (f.metadata() or {}).get("reader_sha256")


def verifier_network(directory: Path):
    """The torch network: the reader in ``directory`` with the verifier's weights over it."""
    from safetensors.torch import load_file

    from qa.read.cross import load_network

    model, _ = load_network(directory, attention="eager")
    trained = {k: v.float() for k, v in load_file(str(directory / VERIFIER)).items()}
    missing = set(trained) - set(model.state_dict())
    if missing:
        raise ValueError(
            f"{directory / VERIFIER} holds weights the reader has not: {sorted(missing)[:3]}"
        )
    model.load_state_dict(trained, strict=False)
    return model


class Verifier:
    """Loads the verifier once; ``answers`` gives its logit that a window answers."""

    def __init__(
        self,
        directory: Path,
        runtime: Runtime = "onnx",
        graphs: Path = GRAPHS_DIR,
        threads: int = 1,
    ) -> None:
        from tokenizers import Tokenizer

        from index.graphs import file_sha256
        from qa.read.cross import WEIGHTS, probe

        path = directory / VERIFIER
        if reader_digest(path) != file_sha256(directory / WEIGHTS).hex():
            raise ValueError(
                f"{path} was trained for other reader weights: retrain it "
                "(python -m train.train_verifier --reader ...) and refit the refusals"
            )
        self.directory = directory
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_LENGTH, strategy="only_second")
        self.runtime = runtime
        _, self._network = network(
            runtime,
            lambda r: verifier_graph(directory, graphs, r),
            lambda: verifier_network(directory),
            None,
            probe,
            threads,
        )

    def answers(self, question: str, text: str) -> float:
        """The logit that ``text`` answers ``question``."""
        e = self.tokenizer.encode(question, text)
        ids, mask, types = padded([e.ids], [e.type_ids])
        return float(self._network(ids, mask, types)[0][0])

    def verify(self, question: str, ranked: RankedSentence, retrieval: Retrieval) -> float:
        return self.answers(question, window_text(ranked, retrieval))


def verifier_graph(directory: Path, graphs: Path, runtime: Runtime = "onnx") -> Path:
    """The ONNX graph of the verifier (its int8 version for the int8 runtime)."""
    from index.graphs import cached_graph, export, quantized
    from qa.read.cross import WEIGHTS

    files = [directory / WEIGHTS, directory / "config.json", directory / VERIFIER]

    def exported(out: Path) -> None:
        export(verifier_network(directory), out, ["relevance", "start", "end"])

    graph = cached_graph(graphs, "verifier", files, exported)
    return quantized(graph) if runtime == "int8" else graph


def has_verifier(directory: Path) -> bool:
    return (directory / VERIFIER).is_file()


@lru_cache(maxsize=4)
def load_verifier(
    directory: Path, runtime: Runtime = "onnx", graphs: Path = GRAPHS_DIR, threads: int = 1
) -> Verifier:
    """The verifier beside the reader in ``directory``, loaded once; TrainedModelError when
    it cannot be."""
    from safetensors import SafetensorError

    from index.errors import GraphError

    try:
        return Verifier(directory, runtime, graphs, threads)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError, GraphError) as exc:
        raise TrainedModelError(
            f"cannot load the answerability verifier in {directory} ({type(exc).__name__}: "
            f"{exc}); its refusal model ({directory}/abstain.json) needs it"
        ) from exc


def verifier_card(directory: Path) -> dict | None:
    """The verifier's card (verifier.json), if there is one."""
    meta = directory / VERIFIER_META
    return json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else None
