# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Both create (or refresh, when pyproject.toml changes) the virtualenv at $(VENV).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Installed without its exact pins, which conflict with mlflow's (see pyproject.toml).
DRAIN3 := drain3==0.9.11

.PHONY: demo test lint typecheck unit bench bench-watch soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	$(BIN)/python -m pip install -q --no-deps $(DRAIN3)
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps $(DRAIN3)
	touch $@ $(VENV)/.stamp-run

demo: $(VENV)/.stamp-run
	$(BIN)/medic demo

test: lint typecheck unit

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy

unit: $(VENV)/.stamp-dev
	$(BIN)/pytest

# The long reliability suites (issue 11); CI runs their fast slice inside `make test`.
soak: $(VENV)/.stamp-dev
	$(BIN)/pytest -m soak

bench: $(VENV)/.stamp-dev
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The watch's long run (issue 15): heads-up lead times and four normal weeks (hours, not CI).
bench-watch: $(VENV)/.stamp-dev
	$(BIN)/python benchmarks/bench_watch.py --sets tuning check fresh

clean:
	rm -rf $(VENV) .medic .mypy_cache .ruff_cache .pytest_cache
