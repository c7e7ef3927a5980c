"""The encoders as ONNX graphs, run by ONNX Runtime: answering questions without torch.

Importing torch, transformers and sentence-transformers took 4-6 s of a 6.4 s cold start
and about 300 MiB of a server's memory (docs/scale.md). A network is exported from torch
once (which needs torch, kept for indexing and training) into a cache folder
(``QA_ONNX_DIR``), under a name made from a digest of its weights and of this module's
export recipe, so a retrained model gets a new graph and an unchanged one is only opened
(about 0.2 s). ONNX Runtime computes in fp32: the graph's outputs equal torch fp32's to
about 1e-6."""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.errors import GraphError

# part of every graph's name: changed when the export below changes, so old files are not used
RECIPE = "torchscript-opset17-eager-v1"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# part of an int8 graph's name, beside its fp32 graph: changed when quantized() changes
QUANTIZED = "int8pc-v1"


def file_sha256(path: Path) -> bytes:
    """The SHA-256 of a file's contents, computed once per (path, size, modification time):
    a start hashes the reader's 45 MB of weights once, for its graph's name and its int8
    recipe's check (index/smoothing.py) alike."""
    stat = path.stat()
    return _file_sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _file_sha256(path: str, _size: int, _mtime_ns: int) -> bytes:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").digest()


def digest(files: Sequence[Path]) -> str:
    """16 hex digits naming the graph of these weight and config files (their contents)."""
    h = hashlib.sha256(RECIPE.encode())
    for path in files:
        h.update(file_sha256(path))
    return h.hexdigest()[:16]


def cached_graph(
    cache: Path, name: str, files: Sequence[Path], export: Callable[[Path], None]
) -> Path:
    """The graph file of ``name`` for these weights in ``cache``; ``export(path)`` writes it
    first when it is not there."""
    path = cache / f"{name}-{digest(files)}.onnx"
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        _write_once(path, export)
    return path


def quantized(graph: Path) -> Path:
    """The graph with its weights in int8 (dynamic quantization, a scale per output channel),
    beside it; written first when it is not there (about 2 s). A quarter of the size; on
    dev13 a question's two encoders took 40% less time and F1 fell by 0.45 (docs/scale.md)."""
    path = graph.with_name(f"{graph.stem}-{QUANTIZED}.onnx")
    if not path.is_file():
        _write_once(path, lambda out: quantize_file(graph, out))
    return path


def quantize_file(
    graph: Path, out: Path, keep: Sequence[str] = (), ops: Sequence[str] | None = None
) -> None:
    """``graph``'s matrix products with int8 weights (a scale per output channel) and inputs
    (quantized per call), and its embedding tables, except the nodes named in ``keep``;
    ``ops``: only these operators (e.g. MatMul alone)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # its advice to pre-process the graph, on the root logger
    try:
        quantize_dynamic(
            graph,
            out,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=list(keep),
            op_types_to_quantize=list(ops) if ops else None,
        )
    finally:
        logging.disable(logging.NOTSET)


def quantize_products(graph: Path, out: Path, keep: Sequence[str]) -> None:
    """``graph``'s matrix products in int8 but for the nodes ``keep``; its embedding tables
    stay fp32 (quantized, they alone moved 3% of the reader's spans)."""
    quantize_file(graph, out, keep, ops=["MatMul"])


def quantized_export(module, path: Path, outputs: Sequence[str], keep: Sequence[str]) -> None:
    """Write the torch ``module`` as an int8 graph (``export``, then ``quantize_products``):
    the smoothed networks of index/smoothing.py."""
    fp32 = path.with_name(f".{path.name}.fp32.tmp")
    try:
        export(module, fp32, outputs)
        quantize_products(fp32, path, keep)
    finally:
        fp32.unlink(missing_ok=True)


def _write_once(path: Path, write: Callable[[Path], None]) -> None:
    """``write(partial)`` to a file beside ``path``, then renamed: a killed write leaves no
    half file and two processes writing at once both end with a whole one."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def export(module, path: Path, outputs: Sequence[str]) -> None:
    """Write the torch ``module`` (taking ``INPUTS``, batch x tokens) as an ONNX graph.

    The TorchScript exporter with transformers' eager attention: ONNX Runtime fuses that
    graph's attention and layer norms, which made it 5-10% faster per question than the
    torch.export-based exporter's graph (and the export 3x quicker); torch is pinned."""
    import torch

    ids = torch.randint(1000, 2000, (2, 16), generator=torch.Generator().manual_seed(0))
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, *outputs)}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(
            module.eval(),
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(path),
            input_names=list(INPUTS),
            output_names=list(outputs),
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


class Graph:
    """An ONNX graph opened for inference on ``threads`` threads: called with the padded
    (ids, attention mask, token types), returns its outputs as float32 arrays."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # idle threads sleep instead of spinning: a spinning pool against a busy core made
        # torch's queries 30-50x slower (qa/threads.py)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.path = path
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ONNX Runtime's errors derive from Exception alone
            raise GraphError(
                f"cannot open the ONNX graph {path} ({exc}); delete it to have it exported again"
            ) from exc

    def __call__(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> list[np.ndarray]:
        feed = dict(zip(INPUTS, (ids, mask, types)))
        return self._session.run(None, feed)
