# `make run`: execute every notebook (quick profile) into reports/index.html.
# `make test`: ruff + pytest (smoke profile). Both create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PROFILE ?= quick

.PHONY: run test lint bench e2e clean

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

clean:
	rm -rf reports .pytest_cache .ruff_cache
