# Encore: `make run` starts the whole suite, `make test` runs every test.
# Both install what they need first (uv from PyPI if it is missing).

SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export UV_LINK_MODE ?= copy
# Compile every installed module once at install time: where PYTHONDONTWRITEBYTECODE is set
# (it is on our CI machines) each service start would otherwise compile its libraries anew,
# which was a large part of `make run`'s cold start.
export UV_COMPILE_BYTECODE ?= 1

.PHONY: help install run test test-fast soak lint format migrate encore user bench docs clean

help:
	@echo "make run      start Postgres, Kafka, S3 and the four services; gateway on :8000"
	@echo "make test     run every test (unit and end-to-end, on real local infrastructure)"
	@echo "make soak     long runs: 100,000 events through crashes, a 60 s broker outage, fuzzing with many examples"
	@echo "make lint     ruff + mypy --strict"
	@echo "make migrate  apply every service's migrations to ENCORE_DATABASE_URL (or the dev database)"
	@echo "make user HANDLE=ada [NAME=\"Ada L\"]   create a user (and key) on the running make run"
	@echo "make encore ARGS=\"keys create --handle ada\"   any operator command (same database)"
	@echo "make bench    every benchmark, then one table of figures and targets"
	@echo "make docs     AsyncAPI of every topic, generated from the contracts (docs/asyncapi.yaml)"
	@echo "make clean    stop nothing, delete .data/ and caches"

$(UV):
	python3 -m pip install --quiet --user "uv==0.13.8" || python3 -m pip install --quiet "uv==0.13.8"
	@command -v uv >/dev/null || echo "uv went to $(HOME)/.local/bin, which is not on your PATH:" \
		"add it there, or use make user HANDLE=… / make encore ARGS=… for the operator CLI"

install: $(UV)
	$(UV) sync --frozen --all-packages

run: install
	$(UV) run --frozen python -m devstack.run

test: install
	$(UV) run --frozen pytest

test-fast: install
	$(UV) run --frozen pytest -m "not e2e"

soak: install
	$(UV) run --frozen pytest -m soak --timeout 2400

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy libs services tests bench

format: install
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

migrate: install
	$(UV) run --frozen python -m devstack.migrate

# The operator CLI, on ENCORE_DATABASE_URL or else the stack `make run` is running. Through
# $(UV) because uv, when make installed it, is in ~/.local/bin, often not on PATH.
encore: install
	@$(UV) run --frozen encore $(ARGS)

user: install
	@test -n "$(HANDLE)" || { echo 'usage: make user HANDLE=ada [NAME="Ada Lovelace"]' >&2; exit 2; }
	@$(UV) run --frozen encore users create --handle "$(HANDLE)" $(if $(NAME),--display-name "$(NAME)")

bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && { \
		apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }; \
		} >/dev/null 2>&1; } \
		|| echo "wrk is not installed: the public link figures use the slower asyncio client"
	$(UV) run --frozen python bench/run_all.py

docs: install
	$(UV) run --frozen python -m devstack.asyncapi docs/asyncapi.yaml
	$(UV) run --frozen python -m gateway.api_index docs/api.md

clean:
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
