# Encore: `make run` starts the whole suite, `make test` runs every test.
# Both install what they need first (uv from PyPI if it is missing).

SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export UV_LINK_MODE ?= copy

.PHONY: help install run test test-fast soak lint format migrate bench docs clean

help:
	@echo "make run      start Postgres, Kafka, S3 and the four services; gateway on :8000"
	@echo "make test     run every test (unit and end-to-end, on real local infrastructure)"
	@echo "make soak     long reliability tests: 100,000 events through crashes, a 60 s broker outage"
	@echo "make lint     ruff + mypy --strict"
	@echo "make migrate  apply every service's migrations to ENCORE_DATABASE_URL (or the dev database)"
	@echo "make bench    benchmarks"
	@echo "make docs     AsyncAPI of every topic, generated from the contracts (docs/asyncapi.yaml)"
	@echo "make clean    stop nothing, delete .data/ and caches"

$(UV):
	python3 -m pip install --quiet --user "uv==0.13.8" || python3 -m pip install --quiet "uv==0.13.8"

install: $(UV)
	$(UV) sync --frozen --all-packages

run: install
	$(UV) run --frozen python -m devstack.run

test: install
	$(UV) run --frozen pytest

test-fast: install
	$(UV) run --frozen pytest -m "not e2e"

soak: install
	$(UV) run --frozen pytest -m soak --timeout 2400 tests/test_reliability.py

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy libs services tests bench

format: install
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

migrate: install
	$(UV) run --frozen python -m devstack.migrate

bench: install
	$(UV) run --frozen python bench/analytics_ingest.py
	$(UV) run --frozen python bench/public_link.py

docs: install
	$(UV) run --frozen python -m devstack.asyncapi docs/asyncapi.yaml

clean:
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
