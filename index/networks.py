"""What runs an encoder: a torch module or an ONNX graph, called alike with padded arrays."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from index.cpu import BF16

# OpenMP threads that wait for work sleep instead of spinning (read when torch loads it):
# embedding on 2 threads with the other core busy elsewhere ran at 46 texts/s spinning,
# 161 passive, as fast as 1 thread (docs/scale.md)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# torch: the module itself, bf16 where the CPU has it (quickest in batches: indexing);
# onnx: ONNX Runtime fp32 on a graph exported once (index/graphs.py): no torch to import;
# int8: the same with the graph's weights quantized to int8 (quicker, answers a little worse)
Runtime = Literal["torch", "onnx", "int8"]
ONNX_RUNTIMES = ("onnx", "int8")
# what QA_ENCODER_RUNTIME may say: a runtime, or auto (chosen from the CPU: ``automatic``)
RuntimeSetting = Literal["auto", "torch", "onnx", "int8"]
# where the exported graphs are kept unless QA_ONNX_DIR says otherwise
GRAPHS_DIR = Path("data/onnx")
# (ids, attention mask, token types) as int64 arrays -> the network's outputs, float32
Network = Callable[[np.ndarray, np.ndarray, np.ndarray], list[np.ndarray]]


def network(
    runtime: Runtime,
    graph: Callable[[Runtime], Path],
    module: Callable[[], object],
    bf16: bool | None,
    probe: Callable,
    threads: int,
) -> tuple[bool, Network]:
    """(whether it runs in bfloat16, an encoder as ``runtime`` runs it): the exported graph
    ``graph(runtime)`` (fp32 or int8) on ONNX Runtime, or the torch ``module()`` as
    ``torch_network`` prepares it. Only the one needed is made."""
    if runtime in ONNX_RUNTIMES:
        from index.graphs import Graph

        return False, Graph(graph(runtime), threads)
    return torch_network(module(), bf16, probe)


def automatic(flags: set[str], machine: str, recipe: bool) -> tuple[Runtime, str]:
    """(the runtime ``auto`` picks on a CPU with these /proc/cpuinfo ``flags`` and this
    ``platform.machine()``, why). int8 where the reader ships its int8 recipe (the smoothed
    int8 of index/smoothing.py: dev13 F1 within 0.5 of fp32's) and the CPU has int8 kernels
    worth having (``int8_kernels``); ONNX Runtime's fp32 elsewhere. Not torch's bf16 even
    where it is native: the smoothed int8 read a pair in 0.58x fp32's time on an
    AVX512-BF16 CPU, torch's bf16 in 0.9x, and torch costs 4 s of start and 300 MiB
    (docs/scale.md)."""
    if not recipe:
        return "onnx", "fp32: the reader has no int8 recipe (python -m train.quantize)"
    kernels, why = int8_kernels(flags, machine)
    return ("int8", f"int8 (smoothed): {why}") if kernels else ("onnx", f"fp32: {why}")


def int8_kernels(flags: set[str], machine: str) -> tuple[bool, str]:
    """(whether this CPU has int8 kernels that make int8 quicker than fp32, why): VNNI or
    AVX2 on x86; ARM's are built in."""
    x86 = machine.lower() in ("x86_64", "amd64", "i686", "i386", "x86")
    if x86 and not {"avx2", "avx512_vnni", "avx_vnni"} & flags:
        return False, "this CPU has no AVX2, whose kernels make int8 quicker"
    if {"avx512_vnni", "avx_vnni", "amx_int8"} & flags:
        return True, "this CPU has VNNI"
    return True, "this CPU has AVX2" if x86 else f"on {machine}"


def for_indexing(flags: set[str], machine: str, recipe: bool) -> tuple[Runtime, str]:
    """(the runtime ``qa index`` embeds with on a CPU with these flags, why): the embedder
    smoothed in int8 where its ``recipe`` ships and the CPU has int8 kernels (vectors at
    least 0.998 cosine of fp32's, about 1.5x its texts/s; dev13's retrieval as with fp32's),
    even where bf16 is native: torch's bf16 embeds about 10% more texts a second there, but
    importing torch costs each `qa index` about 4 s and 300 MiB (the seed indexed in 1.05 s
    against 5.15, dev13 in 0.83x the time: docs/scale.md). Else torch in bf16 where native,
    else ONNX Runtime's fp32 (177 texts/s against torch fp32's 84, the same vectors to
    1e-5)."""
    kernels, why = int8_kernels(flags, machine)
    if recipe and kernels:
        return "int8", f"int8 (smoothed): {why}"
    if BF16 & flags:
        return "torch", "torch bf16: this CPU has native bf16" + (
            "" if recipe else " (the embedder has no int8 recipe)"
        )
    if not recipe:
        return "onnx", "ONNX Runtime fp32: the embedder has no int8 recipe"
    return "onnx", f"ONNX Runtime fp32: {why}"


def padded(rows: Sequence[Sequence[int]], types: Sequence[Sequence[int]], multiple: int = 1):
    """(ids, attention mask, token types) as int64 arrays, each row padded with zeros to the
    longest, rounded up to a multiple of ``multiple`` tokens."""
    n = -(-max(len(row) for row in rows) // multiple) * multiple
    ids = np.zeros((len(rows), n), dtype=np.int64)
    kinds, mask = np.zeros_like(ids), np.zeros_like(ids)
    for k, (row, kind) in enumerate(zip(rows, types)):
        ids[k, : len(row)], kinds[k, : len(row)], mask[k, : len(row)] = row, kind, 1
    return ids, mask, kinds


def torch_network(model, bf16: bool | None, probe: Callable) -> tuple[bool, Network]:
    """(whether it runs in bfloat16, the torch ``model`` as a Network). bfloat16 where the
    CPU has it natively (or as ``bf16`` says), its linear layers prepacked if they compute
    the same on ``probe(model)`` (index/precision.py)."""
    import torch

    from index.precision import bf16_native, prepack

    model.eval()
    bf16 = bf16_native() if bf16 is None else bf16
    if bf16:
        model = prepack(model.to(torch.bfloat16), probe)

    def run(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> list[np.ndarray]:
        with torch.inference_mode():
            out = model(*(torch.from_numpy(x) for x in (ids, mask, types)))
        out = (out,) if isinstance(out, torch.Tensor) else out
        return [x.float().numpy() for x in out]

    return bf16, run
