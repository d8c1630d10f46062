# discogs-cache developer tasks. `make install` once, then `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install test test-fast lint format bench demo clean

install: $(BIN)/discogs-cache

$(BIN)/discogs-cache: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not slow and not e2e"

lint: install
	$(BIN)/ruff check discogs_cache tests benchmarks alembic
	$(BIN)/ruff format --check discogs_cache tests benchmarks alembic
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix discogs_cache tests benchmarks alembic
	$(BIN)/ruff format discogs_cache tests benchmarks alembic

bench: install
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; \
	done

demo: install
	$(BIN)/python -m discogs_cache.demo

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache demo-out bench-data
