# The two Quickstart commands. Both create .venv on first use (about 1.5 minutes, 2 GB).
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1

.PHONY: run test lint

$(VENV)/.installed: pyproject.toml scripts/install.sh examples/selbench-plugin-example/pyproject.toml
	VENV=$(VENV) scripts/install.sh

# The main job on the embedded default pool.
run: $(VENV)/.installed
	$(BIN)/selbench describe --heldout-per-task 50

# What CI runs: lint, then every test (the slow ones load the real default model on small samples).
test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
