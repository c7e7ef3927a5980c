"""What a benchmark compares in one run: this tree, this tree under other settings
(``--variant K=V``), and the code of another git revision (``--against REV``, checked out
into a temporary worktree that shares this virtual environment)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--against", help="a git revision to measure in the same run")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="K=V",
        help="also this tree with this setting, e.g. QA_ENCODER_RUNTIME=torch (repeatable)",
    )


def variants(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """Per ``--variant``: its name and the environment it adds."""
    out = {}
    for variant in args.variant:
        key, _, value = variant.partition("=")
        out[f"this tree, {variant}"] = {key: value}
    return out


@contextmanager
def checkout(rev: str | None, tmp: Path) -> Iterator[Path | None]:
    """The code of ``rev`` in a worktree under ``tmp`` (None without a revision), removed
    afterwards."""
    if rev is None:
        yield None
        return
    other = tmp / "against"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(other), rev],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        yield other
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(other)],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )


def qa_index(docs: Path, index_dir: Path, cwd: Path = ROOT, env: dict | None = None) -> None:
    """`qa index DOCS` into ``index_dir`` with the code in ``cwd`` (this tree or a checkout)."""
    subprocess.run(
        [sys.executable, "-m", "qa", "index", str(docs), "--index-dir", str(index_dir)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=True,
        capture_output=True,
    )
