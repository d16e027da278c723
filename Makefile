# lead_assets — one entry point for a fresh machine. Every target installs what it needs.
#
#   make demo   sandbox + embedded SQLite + the whole graph on samples/, summary printed
#   make demo-distributed  the demo on two Celery workers, PostgreSQL storage, a RabbitMQ broker
#   make test   the test suite (SQLite and a throwaway PostgreSQL cluster)
#   make test-e2e  the real dagster dev (daemon + webserver) and the UI in Chromium (a few minutes)
#   make dev    Dagster UI at http://127.0.0.1:3000 with the daemon (sensors and schedules tick)
#   make bench  benchmarks (figures printed; see benchmarks/)
#   make lint   ruff check + format check + pyright (basic, on lead_assets/) + dg check defs

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv from PATH, else installed into the user's Python on first use.
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_COMPILE_BYTECODE := 1
# Optional extras of the package that a checkout installs: the Celery executor (dagster-celery;
# the test suite and `make demo-distributed` need it) and the HTTP servers (the vendor sandbox
# behind `make demo`, `make dev` and the tests, and the webhook receiver).
UV_EXTRAS ?= --extra celery --extra server
# The type checker of `make lint`, one pinned release from the npm registry (needs node); its
# settings are [tool.pyright] in pyproject.toml (named with -p, so a stray pyrightconfig.json in a
# parent folder is never picked up) and it reads the packages of $(VENV).
PYRIGHT := npx --yes pyright@1.1.414

.PHONY: help install demo demo-distributed test test-e2e dev bench lint fmt clean

help:
	@sed -n 's/^#   //p' Makefile

$(BIN)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode $(UV_EXTRAS)
	@touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python -m lead_assets.demo

demo-distributed: install
	$(BIN)/python -m lead_assets.distributed.demo

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# Debian's Chromium (apt) drives the UI test; Playwright's own browser download is never used.
test-e2e: install
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }
	$(UV) sync --frozen --compile-bytecode $(UV_EXTRAS) --group e2e
	LEAD_ASSETS_E2E=1 $(BIN)/pytest lead_assets_tests/e2e -p no:cacheprovider $(PYTEST_ARGS)
	$(UV) sync --frozen --compile-bytecode $(UV_EXTRAS)

dev: install
	$(BIN)/python -m lead_assets.dev

bench: install
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b $(BENCH_ARGS); done

lint: install
	$(BIN)/ruff check lead_assets lead_assets_tests benchmarks
	$(BIN)/ruff format --check lead_assets lead_assets_tests benchmarks
	$(PYRIGHT) -p pyproject.toml
	@# A throwaway instance: the production dagster.yaml needs PostgreSQL settings to load.
	@mkdir -p .state/lint_home && printf "telemetry:\n  enabled: false\n" > .state/lint_home/dagster.yaml && DAGSTER_HOME=$(CURDIR)/.state/lint_home \
		$(BIN)/dg check defs --use-active-venv

fmt: install
	$(BIN)/ruff check --fix lead_assets lead_assets_tests benchmarks
	$(BIN)/ruff format lead_assets lead_assets_tests benchmarks

clean:
	rm -rf .state .pytest_cache .ruff_cache
