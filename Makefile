# lead_assets — one entry point for a fresh machine. Every target installs what it needs.
#
#   make demo   sandbox + embedded SQLite + the whole graph on samples/, summary printed
#   make test   the test suite (SQLite and a throwaway PostgreSQL cluster)
#   make dev    Dagster UI at http://127.0.0.1:3000 with the daemon (sensors and schedules tick)
#   make bench  benchmarks (figures printed; see benchmarks/)
#   make lint   ruff check + format check + dg check defs

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv from PATH, else installed into the user's Python on first use.
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_COMPILE_BYTECODE := 1

.PHONY: help install demo test dev bench lint fmt clean

help:
	@sed -n 's/^#   //p' Makefile

$(BIN)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python -m lead_assets.demo

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

dev: install
	$(BIN)/python -m lead_assets.dev

bench: install
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b $(BENCH_ARGS); done

lint: install
	$(BIN)/ruff check lead_assets lead_assets_tests benchmarks
	$(BIN)/ruff format --check lead_assets lead_assets_tests benchmarks
	@# A throwaway instance: the production dagster.yaml needs PostgreSQL settings to load.
	@mkdir -p .state/lint_home && printf "telemetry:\n  enabled: false\n" > .state/lint_home/dagster.yaml && DAGSTER_HOME=$(CURDIR)/.state/lint_home \
		$(BIN)/dg check defs --use-active-venv

fmt: install
	$(BIN)/ruff check --fix lead_assets lead_assets_tests benchmarks
	$(BIN)/ruff format lead_assets lead_assets_tests benchmarks

clean:
	rm -rf .state .pytest_cache .ruff_cache
