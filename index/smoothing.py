"""Int8 that keeps answers: SmoothQuant's per-channel smoothing (Xiao et al., 2023).

ONNX Runtime's dynamic int8 quantizes a matrix product's input with one scale for the whole
tensor; a transformer's inputs have a few channels far larger than the rest, which take most
of that scale's range and leave the others a handful of levels. Dividing each input channel j
by s_j = max|X_j|^alpha / max|W_j|^(1 - alpha) and multiplying the weight's row j by it
computes the same product (exactly, in fp32) with the outliers moved into the weights, which
are quantized per output channel. The maxima max|X_j| come from calibration: the model run on
questions and sentences of SQuAD 1.1 train (``python -m train.quantize``). The layers whose
quantization still moves the answers most stay in fp32.

The recipe ships beside the weights as ``smoothing.safetensors``: a scale vector per linear
layer, with alpha and the layers kept in fp32 in its metadata. ``qa/read/cross.py`` exports
the smoothed network into its own int8 graph when ``QA_ENCODER_RUNTIME`` is int8; without
the file the plain int8 graph (``index.graphs.quantized``) is used."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "smoothing.safetensors"
WEIGHTS = "model.safetensors"  # the reader's weights the recipe was made for
log = logging.getLogger(__name__)


def weights_digest(directory: Path, weights: str | Path = WEIGHTS) -> str:
    """16 hex digits of the SHA-256 of the weights file ``weights`` in ``directory`` (or at
    ``weights``, a path)."""
    from index.graphs import file_sha256

    return file_sha256(directory / weights).hex()[:16]


@dataclass(frozen=True)
class Recipe:
    """Per linear layer (by its module name) the scale its input is divided by; alpha; the
    linear layers kept in fp32."""

    scales: dict[str, np.ndarray]
    alpha: float
    keep_fp32: tuple[str, ...]

    def save(
        self,
        directory: Path,
        file: str = FILE,
        weights: str | Path = WEIGHTS,
        extra: dict[str, str] | None = None,
    ) -> Path:
        """Written as ``file`` in ``directory`` with the digest of the weights ``weights``
        it was made for (a name in ``directory``, or a path: the packaged embedder's are in
        its own package), and ``extra`` in its metadata: a recipe found beside other weights
        (a model trained again into the folder) is not used."""
        from safetensors.numpy import save_file

        path = directory / file
        meta = {
            "alpha": str(self.alpha),
            "keep_fp32": json.dumps(list(self.keep_fp32)),
            "weights": weights_digest(directory, weights),
            **(extra or {}),
        }
        directory.mkdir(parents=True, exist_ok=True)
        save_file({k: v.astype(np.float32) for k, v in self.scales.items()}, str(path), meta)
        path.chmod(0o644)  # safetensors writes it for its owner alone
        return path


def has_recipe(
    directory: Path, file: str = FILE, weights: str | Path = WEIGHTS, remedy: str | None = None
) -> bool:
    """Whether ``directory`` holds a recipe ``file`` made for the weights ``weights`` (a name
    in ``directory``, or a path); its metadata alone is read. One made for other weights is
    said once in the log, with ``remedy``: the command that makes one for them (by default
    ``python -m train.quantize --model DIRECTORY``)."""
    path = directory / file
    if not path.is_file() or not (directory / weights).is_file():
        return False
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        made_for = (f.metadata() or {}).get("weights")
    if made_for == weights_digest(directory, weights):
        return True
    if path not in _stale:
        _stale.add(path)
        log.warning(
            "%s was made for other weights than %s: not used (%s makes one for them)",
            path,
            directory / weights,
            remedy or f"python -m train.quantize --model {directory}",
        )
    return False


_stale: set[Path] = set()  # recipes said to be for other weights


def load_recipe(
    directory: Path, file: str = FILE, weights: str | Path = WEIGHTS, remedy: str | None = None
) -> Recipe | None:
    """The recipe ``file`` shipped in ``directory``, or None when it has none or it was made
    for other weights than ``weights`` (``has_recipe``)."""
    if not has_recipe(directory, file, weights, remedy):
        return None
    from safetensors import safe_open

    with safe_open(str(directory / file), framework="numpy") as f:
        meta = f.metadata() or {}
        scales = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no iter)
    return Recipe(
        scales, float(meta.get("alpha", "0.5")), tuple(json.loads(meta.get("keep_fp32", "[]")))
    )


def smoothed_int8_graph(
    graphs: Path,
    name: str,
    files: Sequence[Path],
    recipe_file: Path,
    recipe: Recipe,
    network: Callable[[], object],
    outputs: Sequence[str],
) -> Path:
    """The int8 graph of the torch ``network()`` smoothed by ``recipe`` (its fp32 layers
    kept), in the folder ``graphs`` under ``name`` and the digest of ``files`` and the
    recipe's ``recipe_file``; exported first if need be."""
    from index.graphs import cached_graph, quantized_export

    def write(out: Path) -> None:
        keep = [graph_node(layer) for layer in recipe.keep_fp32]
        quantized_export(smoothed(network(), recipe), out, outputs, keep)

    return cached_graph(graphs, name, [*files, recipe_file], write)


def linear_layers(model) -> dict[str, object]:
    """The encoder's linear layers by module name (the heads are tiny and stay as they are)."""
    import torch

    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name.startswith("bert.")
    }


def input_maxima(model, batches: Iterable[tuple]) -> dict[str, np.ndarray]:
    """Per linear layer, the largest |input| of each channel over the calibration batches
    (padded (ids, mask, types) int64 arrays, as the reader pads a question's candidates).
    Padding positions count: ONNX Runtime's dynamic int8 takes its scale from the whole
    input, padding included (measured without them, the int8 reader read the fp32 spans on
    79% of pairs against 90% with)."""
    import torch

    maxima: dict[str, torch.Tensor] = {}

    def hook(name: str) -> Callable:
        def record(_module, inputs, _output) -> None:
            x = inputs[0].detach().abs()
            seen = x.reshape(-1, x.shape[-1]).amax(0).float()
            maxima[name] = torch.maximum(maxima[name], seen) if name in maxima else seen

        return record

    hooks = [m.register_forward_hook(hook(n)) for n, m in linear_layers(model).items()]
    try:
        with torch.inference_mode():
            for ids, mask, types in batches:
                model(*(torch.from_numpy(x) for x in (ids, mask, types)))
    finally:
        for h in hooks:
            h.remove()
    return {k: v.numpy() for k, v in maxima.items()}


def scales(model, maxima: dict[str, np.ndarray], alpha: float) -> dict[str, np.ndarray]:
    """s_j = max|X_j|^alpha / max|W_j|^(1 - alpha) for each layer's input channels."""
    out = {}
    for name, layer in linear_layers(model).items():
        w = layer.weight.detach().abs().amax(0).float().numpy().clip(1e-5)
        x = maxima[name].clip(1e-5)
        out[name] = (x**alpha / w ** (1 - alpha)).clip(1e-5).astype(np.float32)
    return out


def smoothed(model, recipe: Recipe):
    """The model with each linear layer of the recipe computing (x / s) @ (s * W): the same
    function, ready for int8 (changes ``model`` in place and returns it)."""
    import torch

    class Smoothed(torch.nn.Module):
        def __init__(self, linear: torch.nn.Linear, inverse: torch.Tensor) -> None:
            super().__init__()
            self.linear = linear
            self.register_buffer("inverse", inverse)

        def forward(self, x):
            return self.linear(x * self.inverse)

    modules = dict(model.named_modules())
    for name, layer in linear_layers(model).items():
        if name not in recipe.scales:
            continue
        s = torch.from_numpy(recipe.scales[name]).to(layer.weight.dtype)
        with torch.no_grad():
            layer.weight.mul_(s)
        parent, _, child = name.rpartition(".")
        setattr(modules[parent], child, Smoothed(layer, 1.0 / s))
    return model


def graph_node(name: str, smoothed_layer: bool = True) -> str:
    """The ONNX node of the linear layer ``name``'s product in a graph exported from the
    (smoothed) model by the TorchScript exporter: "bert.encoder.layer.0.output.dense" ->
    "/bert/encoder/layer.0/output/dense/linear/MatMul"."""
    parts = name.split(".")
    # module paths are joined with "/", but a ModuleList's index stays with its name
    joined, k = [], 0
    while k < len(parts):
        if k + 1 < len(parts) and parts[k + 1].isdigit():
            joined.append(f"{parts[k]}.{parts[k + 1]}")
            k += 2
        else:
            joined.append(parts[k])
            k += 1
    return "/" + "/".join(joined) + ("/linear" if smoothed_layer else "") + "/MatMul"
