"""This machine's CPU: its model and the instruction sets that decide how fast the encoders
run on it (AVX2, AVX-512, VNNI for int8, AVX512-BF16 and AMX: bf16 is native only with the
last two). The encoders' runtime is chosen from them (index/networks.py), /health shows
them, and every benchmark prints them first (bench/machine.py), so a figure never travels
without its CPU."""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path

# the flags that matter here, as /proc/cpuinfo names them
FLAGS = (
    "avx2",
    "avx_vnni",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_bf16",
    "amx_tile",
    "amx_int8",
)


# bf16 is native with either of these (elsewhere it is emulated, slower than fp32)
BF16 = frozenset({"avx512_bf16", "amx_bf16"})


def parse(cpuinfo: str) -> tuple[str, set[str]]:
    """(the model name, the flags) of the first CPU in the text of /proc/cpuinfo."""
    model, flags = "", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    return model, flags


def describe(cpuinfo: str) -> str:
    """ "MODEL, N cores (flags: ...)" from the text of /proc/cpuinfo."""
    model, flags = parse(cpuinfo)
    shown = [f for f in FLAGS if f in flags]
    bf16 = "native bf16" if BF16 & flags else "no native bf16"
    return (
        f"{model or platform.processor() or 'unknown CPU'}, {os.cpu_count()} cores "
        f"({', '.join(shown) or 'none of ' + ', '.join(FLAGS)}; {bf16})"
    )


@lru_cache(maxsize=1)
def _cpuinfo() -> str:
    path = Path("/proc/cpuinfo")
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except OSError:
        return ""


def cpu() -> str:
    """This machine's CPU as ``describe`` words it (the platform's name where there is no
    /proc/cpuinfo)."""
    return describe(_cpuinfo())


def flags() -> set[str]:
    """This CPU's flags of ``FLAGS`` (empty where there is no /proc/cpuinfo)."""
    return parse(_cpuinfo())[1] & set(FLAGS)
