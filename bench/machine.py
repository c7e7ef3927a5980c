"""Where a figure was measured: every benchmark prints the CPU's line (index/cpu.py) first,
so a figure never travels without its CPU."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from index.cpu import FLAGS, cpu, describe  # noqa: F401  (tests/test_bench_machine.py)


def print_cpu() -> None:
    print(f"CPU: {cpu()}", flush=True)


if __name__ == "__main__":
    print_cpu()
