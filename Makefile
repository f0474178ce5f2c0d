# Bansos Tanjung Barat — one command to run, one to test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## run: embedded NATS + SQLite, every service, demo data; Ctrl-C stops it
run: install
	$(BIN)/bansos up --demo

## test: the whole suite (unit, integration on SQLite and PostgreSQL, end to end) and lint
test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services

bench: install
	$(BIN)/python -m benchmarks.registry
	$(BIN)/python -m benchmarks.audit
	$(BIN)/python -m benchmarks.distribution
	$(BIN)/python -m benchmarks.projections
	$(BIN)/python -m benchmarks.imports
	$(BIN)/python -m benchmarks.city --households 1000000

## chaos: commands under load while NATS dies three times and audit once (about 2 minutes)
chaos: install
	$(BIN)/python -m benchmarks.chaos --seconds 60

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
