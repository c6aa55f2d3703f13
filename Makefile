# The two commands of the README: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench bundle rpm clean

# setuptools' advice about editable installs is for its own developers: keep it off screen
PIP_INSTALL := PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip

$(VENV)/.demo: $(BIN)/python pyproject.toml
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.test: $(BIN)/python pyproject.toml
	$(PIP_INSTALL) -e '.[test]'
	touch $@ $(VENV)/.demo

# The console's modules compiled, as the bundle and the RPM ship them: an
# editable checkout is otherwise compiled again at every start wherever
# nothing may write bytecode (PYTHONDONTWRITEBYTECODE)
COMPILE := $(BIN)/python -m compileall -q xstui screens >/dev/null

demo: $(VENV)/.demo
	$(COMPILE)
	$(BIN)/xstui demo

test: $(VENV)/.test
	TEXTUAL_ANIMATIONS=none $(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check xstui screens tests
	$(BIN)/ruff format --check xstui screens tests

bench: $(VENV)/.test
	$(BIN)/python -m tests.bench.output
	$(BIN)/python -m tests.bench.start
	$(BIN)/python -m tests.bench.keys
	$(BIN)/python -m tests.bench.sim_calls
	$(BIN)/python -m tests.bench.export
	$(BIN)/python -m tests.bench.restore
	$(BIN)/python -m tests.bench.rolling
	$(BIN)/python -m tests.bench.metrics
	$(BIN)/python -m tests.bench.suite
	$(BIN)/python -m tests.bench.fleet

# dom0 (glibc 2.17): a self-contained bundle (its own Python) and an RPM of it, built
# from what tools/bundle/*.lock pin with hashes; bundle-lock rewrites those (as root)
bundle:
	bash tools/bundle/build.sh

.PHONY: bundle-lock
bundle-lock:
	bash tools/bundle/lock.sh

rpm: bundle
	bash tools/bundle/rpm.sh

clean:
	rm -rf $(VENV) build dist *.egg-info
