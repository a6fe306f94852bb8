# Two commands after cloning: `make run` (set up, load demo data, start the web app) and
# `make test` (set up, run the whole test suite with lint and types). See README.md.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench lint

$(STAMP): requirements.lock pyproject.toml package-lock.json
	scripts/assets
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m compileall -q src  # bytecode up front, as pip does for installed code
	touch $(STAMP)

setup: $(STAMP)

run: setup
	scripts/install-pdf
	$(BIN)/kith init
	$(BIN)/kith demo --if-empty
	$(BIN)/kith serve --demo-signin --port $(PORT)

test: setup
	scripts/install-browser
	scripts/install-servers
	scripts/install-pdf
	scripts/test

lint: setup
	$(BIN)/ruff check src benchmarks tests
	$(BIN)/ruff format --check src benchmarks tests
	$(BIN)/mypy
	PYTHONPATH=src $(BIN)/lint-imports --no-cache

bench: setup
	$(BIN)/python -m benchmarks
