"""Where a figure was measured: the CPU's model and the instruction sets that decide how fast
the encoders run on it (AVX2, AVX-512, AVX512-BF16 and AMX: bf16 is native only with the last
two). Every benchmark prints this line first, so a figure never travels without its CPU."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# the flags that matter here, as /proc/cpuinfo names them
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")


def describe(cpuinfo: str) -> str:
    """"MODEL, N cores (flags: ...)" from the text of /proc/cpuinfo."""
    model, flags = "", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    shown = [f for f in FLAGS if f in flags]
    bf16 = "native bf16" if {"avx512_bf16", "amx_bf16"} & flags else "no native bf16"
    return (
        f"{model or platform.processor() or 'unknown CPU'}, {os.cpu_count()} cores "
        f"({', '.join(shown) or 'none of ' + ', '.join(FLAGS)}; {bf16})"
    )


def cpu() -> str:
    """This machine's CPU as ``describe`` words it (the platform's name where there is no
    /proc/cpuinfo)."""
    path = Path("/proc/cpuinfo")
    return describe(path.read_text(encoding="utf-8") if path.is_file() else "")


def print_cpu() -> None:
    print(f"CPU: {cpu()}", flush=True)


if __name__ == "__main__":
    print_cpu()
