# Two commands: `make run` serves Signoff, `make test` checks everything.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint types contracts pytest run format bench bench-quick bench-engine bench-store bench-http clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

test: lint types contracts pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -n 2 -q

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench-engine: $(STAMP)
	$(BIN)/python -m bench.engine

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis

run: $(STAMP)
	$(BIN)/signoff demo
	$(BIN)/signoff serve

bench-store: $(STAMP)
	$(BIN)/python -m bench.store

bench-http: $(STAMP)
	$(BIN)/python -m bench.http

# Benchmarks (docs/benchmarks.md). Their extra packages are the `bench` extra.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

# Everything, full size (about half an hour), then docs/benchmarks.md and its charts.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.spiff
	$(BIN)/python -m bench.persisted
	$(BIN)/python -m bench.http --pg
	$(BIN)/python -m bench.http --no-worker --clients 1,8
	$(BIN)/python -m bench.growth
	$(BIN)/python -m bench.profile
	$(BIN)/python -m bench.report

# The same at small sizes, in under two minutes: prints every ratio and goal.
bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench.spiff --quick
	$(BIN)/python -m bench.persisted --quick
	$(BIN)/python -m bench.http --quick
	$(BIN)/python -m bench.growth --quick
	$(BIN)/python -m bench.profile --quick
	$(BIN)/python -m bench.report --quick
