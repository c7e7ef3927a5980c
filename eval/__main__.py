"""``python -m eval``: one-line errors and a non-zero exit instead of tracebacks."""

from __future__ import annotations

from eval.cli import app
from qa.cli import run_cli


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
