# The two Quickstart commands. Both create .venv on first use (about 1.5 minutes, 2 GB).
VENV ?= .venv
BIN := $(VENV)/bin
# Real data (the default sweep's MMLU slice): ../shared/data beside the checkout, else the development
# machines' /work/shared/data; set SELBENCH_DATA_DIR to point elsewhere.
export SELBENCH_DATA_DIR ?= $(abspath $(firstword $(wildcard ../shared/data /work/shared/data) ../shared/data))

.PHONY: run test lint

$(VENV)/.installed: pyproject.toml scripts/install.sh examples/selbench-plugin-example/pyproject.toml
	VENV=$(VENV) scripts/install.sh

# The main job: the default sweep on the embedded synthetic pool (see the README for its measured time on
# 2 CPU cores); it prints the table with paired intervals and writes it with its plots to
# runs/default/report.
run: $(VENV)/.installed
	$(BIN)/selbench sweep configs/default.yaml

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# What CI runs: lint, then every test (the slow ones load the real default model on small samples).
test: lint
	$(BIN)/python -m pytest
