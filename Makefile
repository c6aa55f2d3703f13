# The two commands of the README: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(BIN)/xstui demo

test: $(VENV)/.test
	TEXTUAL_ANIMATIONS=none $(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check xstui screens tests
	$(BIN)/ruff format --check xstui screens tests

bench: $(VENV)/.test
	$(BIN)/python -m tests.bench.run

clean:
	rm -rf $(VENV) build *.egg-info
