#!/usr/bin/env bash
# Runs the test suite inside .venv (set up by `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
