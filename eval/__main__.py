"""``python -m eval``: one-line errors and a non-zero exit instead of tracebacks."""

from __future__ import annotations

import logging
import sys

import typer

from eval.cli import app
from index.errors import IndexError_
from qa.errors import QAError


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except (QAError, IndexError_, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
