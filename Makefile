# `make run`: execute every notebook (quick profile) into reports/index.html.
# `make test`: ruff + pytest (smoke profile). Both create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PROFILE ?= quick

.PHONY: run test lint bench e2e gpu-check gpu-data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/labkit report --profile $(PROFILE) --out reports

lint: $(VENV)/.installed-test
	$(BIN)/ruff check labkit tests benchmarks notebooks

test: lint
	$(BIN)/python -m pytest

e2e: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m e2e

bench: $(VENV)/.installed
	$(BIN)/labkit bench

# One prepared GPU run (benchmarks/gpu_check.py); on a CPU machine a dry run of the same code.
gpu-check: $(VENV)/.installed-test
	$(BIN)/python benchmarks/gpu_check.py

# Copy the system's Fashion-MNIST files into data/ (git-ignored) so they travel with the checkout.
gpu-data:
	mkdir -p data/fashion_mnist
	cp -n /usr/share/datasets/fashion-mnist/*-ubyte.gz data/fashion_mnist/

clean:
	rm -rf reports .pytest_cache .ruff_cache
