"""Whether the best sentence really answers the question: a verifier trained on SQuAD 2.0's
real unanswerable questions (``python -m train.train_verifier``) reads the question with the
sentence and its neighbours and gives a logit that they answer it; the abstainer weighs it
with the other evidence (qa.read.abstain, feature "verified"). In the same pass its span head
reads the short answer in the sentence: with the neighbours to read, it reads more of them
right than the reader, which sees the sentence alone (docs/training.md, "Run 10").

The verifier is the reader's network with its last layers and heads trained again
(``verifier.safetensors`` beside the reader's weights, made for those weights: the first
layers and the embeddings are the reader's own, so it ships as a few MB). It runs as the
reader does (``QA_ENCODER_RUNTIME``): ONNX Runtime or torch; in int8 smoothed by its own
recipe (``verifier-smoothing.safetensors``, ``python -m train.quantize --verifier``), or in
fp32 beside an int8 reader where it has none (plain int8 moved its spans)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from index.networks import GRAPHS_DIR, Runtime, network
from qa.errors import TrainedModelError
from qa.read.retrieve import Retrieval
from qa.read.roles import AnswerSpan, RankedSentence

WIDTH = 1  # sentences read on each side of the best one
MAX_LENGTH = 192  # tokens of question and window read
VERIFIER = "verifier.safetensors"  # beside the reader's weights
VERIFIER_META = "verifier.json"
VERIFIER_RECIPE = "verifier-smoothing.safetensors"  # its int8 recipe (index/smoothing.py)


def window(spans: Sequence[tuple[int, int]], i: int, width: int = WIDTH) -> tuple[int, int]:
    """(start, end) of sentence ``i`` with ``width`` neighbours either side, of ``spans``
    (each sentence's (start, end), in order)."""
    return spans[max(0, i - width)][0], spans[min(len(spans) - 1, i + width)][1]


@dataclass(frozen=True)
class Verdict:
    logit: float  # that the window answers the question
    span: AnswerSpan | None  # the short answer it read in the ranked sentence, if any


def window_text(ranked: RankedSentence, retrieval: Retrieval) -> str:
    return sentence_window(ranked, retrieval)[0]


def sentence_window(ranked: RankedSentence, retrieval: Retrieval) -> tuple[str, int]:
    """The ranked sentence with its neighbours in its passage (instruction-like sentences
    left out: the window stops before them), and where the sentence starts in it."""
    passage = retrieval.passages[ranked.passage_rank]
    sentences = passage.sentences
    i = next((k for k, s in enumerate(sentences) if s.id == ranked.sentence.id), None)
    if i is None:
        return ranked.sentence.text, 0
    lo = hi = i
    while lo > max(0, i - WIDTH) and not sentences[lo - 1].flagged:
        lo -= 1
    while hi < min(len(sentences) - 1, i + WIDTH) and not sentences[hi + 1].flagged:
        hi += 1
    start, end = sentences[lo].start, sentences[hi].end
    text = passage.text[start - passage.start : end - passage.start]
    return text, sentences[i].start - start


def reader_digest(path: Path) -> str | None:
    """The digest of the reader's weights a verifier file was made for."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return (f.metadata() or {}).get("reader_sha256")


def made_for(path: Path, reader: Path) -> bool:
    """Whether the verifier weights at ``path`` were trained for the reader in ``reader``."""
    from index.graphs import file_sha256
    from qa.read.cross import WEIGHTS

    return reader_digest(path) == file_sha256(reader / WEIGHTS).hex()


def put_over(model, path: Path):
    """``model`` (the reader's network) with the verifier's weights at ``path`` over it."""
    from safetensors.torch import load_file

    trained = {k: v.float() for k, v in load_file(str(path)).items()}
    missing = set(trained) - set(model.state_dict())
    if missing:
        raise ValueError(f"{path} holds weights the reader has not: {sorted(missing)[:3]}")
    model.load_state_dict(trained, strict=False)
    return model


def verifier_network(directory: Path):
    """The torch network: the reader in ``directory`` with the verifier's weights over it."""
    from qa.read.cross import load_network

    model, _ = load_network(directory, attention="eager")
    return put_over(model, directory / VERIFIER)


def verifier_tokenizer(directory: Path):
    """The reader's tokenizer in ``directory``, truncating the window (never the question)
    to ``MAX_LENGTH`` tokens as the verifier reads."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_LENGTH, strategy="only_second")
    return tokenizer


class Verifier:
    """Loads the verifier once; ``answers`` gives its logit that a window answers."""

    def __init__(
        self,
        directory: Path,
        runtime: Runtime = "onnx",
        graphs: Path = GRAPHS_DIR,
        threads: int = 1,
    ) -> None:
        from qa.read.cross import probe

        path = directory / VERIFIER
        if not made_for(path, directory):
            raise ValueError(
                f"{path} was trained for other reader weights: retrain it "
                "(python -m train.train_verifier --reader ...) and refit the refusals"
            )
        self.directory = directory
        self.tokenizer = verifier_tokenizer(directory)
        # int8 only with its own recipe: plain int8 moved its spans (dev13's held-out F1
        # 67.2 -> 65.6, docs/training.md "Run 10"); fp32 without one
        self.runtime: Runtime = (
            "onnx" if runtime == "int8" and not has_int8_recipe(directory) else runtime
        )
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        self.max_answer_tokens = int(meta["max_answer_tokens"])
        _, self._network = network(
            self.runtime,
            lambda r: verifier_graph(directory, graphs, r),
            lambda: verifier_network(directory),
            None,
            probe,
            threads,
        )

    def answers(self, question: str, text: str) -> float:
        """The logit that ``text`` answers ``question``."""
        return self.read(question, text, 0, 0).logit

    def read(self, question: str, text: str, at: int, length: int) -> Verdict:
        """The logit that ``text`` answers ``question``, and the short answer it reads in
        ``text[at : at + length]`` (characters of that part; None if it reads none there)."""
        from qa.read.cross import NO_SPAN, best_spans, pair_inputs, snap, unattributed

        e = self.tokenizer.encode(question, text)
        ids, mask, types, context = pair_inputs([e])
        relevance, start, end = self._network(ids, mask, types)
        # tokens wholly inside the part (a window cut at MAX_LENGTH may cut it too)
        inside = [o[0] >= at and at < o[1] <= at + length for o in e.offsets]
        context[0, : len(inside)] &= inside
        ((i, j, score),) = best_spans(start, end, context, self.max_answer_tokens)
        span = None
        if score != NO_SPAN:
            part = text[at : at + length]
            a, b = unattributed(part, *snap(part, e.offsets[i][0] - at, e.offsets[j][1] - at))
            span = AnswerSpan(a, b, score) if b > a else None
        return Verdict(float(relevance[0]), span)

    def verify(self, question: str, ranked: RankedSentence, retrieval: Retrieval) -> Verdict:
        text, at = sentence_window(ranked, retrieval)
        return self.read(question, text, at, len(ranked.sentence.text))


def has_int8_recipe(directory: Path) -> bool:
    """Whether the verifier in ``directory`` has an int8 recipe made for its weights."""
    from index.smoothing import has_recipe

    return has_recipe(directory, VERIFIER_RECIPE, VERIFIER, remedy(directory))


def remedy(directory: Path) -> str:
    """The command that makes the verifier's int8 recipe."""
    return f"python -m train.quantize --model {directory} --verifier"


def verifier_graph(directory: Path, graphs: Path, runtime: Runtime = "onnx") -> Path:
    """The ONNX graph of the verifier: fp32, or for ``int8`` smoothed by its recipe with
    int8 products (the recipe's fp32 layers kept); exported first if need be."""
    from index.graphs import cached_graph, export
    from index.smoothing import load_recipe, smoothed_int8_graph
    from qa.read.cross import WEIGHTS

    files = [directory / WEIGHTS, directory / "config.json", directory / VERIFIER]
    outputs = ["relevance", "start", "end"]
    recipe = (
        load_recipe(directory, VERIFIER_RECIPE, VERIFIER, remedy(directory))
        if runtime == "int8"
        else None
    )
    if recipe is not None:
        return smoothed_int8_graph(
            graphs,
            "verifier-smoothed-int8",
            files,
            directory / VERIFIER_RECIPE,
            recipe,
            lambda: verifier_network(directory),
            outputs,
        )

    def exported(out: Path) -> None:
        export(verifier_network(directory), out, outputs)

    return cached_graph(graphs, "verifier", files, exported)


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
