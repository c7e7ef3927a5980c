"""Which float precision the models run in on this CPU."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def bf16_native() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX512-BF16 or AMX): there, the
    models run about twice as fast in it, with the same results to about three digits.
    Elsewhere bfloat16 is emulated, slower than fp32, and the models stay in fp32."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes
        return False


def prepack(model, probe: Callable):
    """The bf16 model with its linear layers' weights laid out once for oneDNN, instead of
    at every call (a fifth of the time of a one-sentence read, of a query's embedding);
    unchanged if this torch lacks the operators or they disagree with the plain layers on
    ``probe(model)`` (a tensor or a tuple of tensors)."""
    import torch

    try:
        packed = _packed_copy(model)
        with torch.inference_mode():
            want, got = probe(model), probe(packed)
        if isinstance(want, torch.Tensor):
            want, got = (want,), (got,)
        if all(torch.equal(a, b) for a, b in zip(want, got, strict=True)):
            return packed
        log.info("bf16 weights not prepacked: the packed layers disagree")
    except (AttributeError, RuntimeError) as exc:
        log.info("bf16 weights not prepacked (%s)", exc)
    return model


def _packed_copy(model):
    import copy

    import torch

    class PackedLinear(torch.nn.Module):
        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            self.weight = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), None)
            self.bias = None if linear.bias is None else linear.bias.detach()

        def forward(self, x):
            return torch.ops.mkldnn._linear_pointwise(x, self.weight, self.bias, "none", [], "")

    def swap(module: torch.nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, PackedLinear(child))
            else:
                swap(child)

    packed = copy.deepcopy(model)
    swap(packed)
    return packed
