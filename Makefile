# Two entry points for a fresh machine (see README):
#   make run   - install, ingest the seed article, open the chat (embedded store, offline)
#   make test  - install with test extras, Chromium and the llama.cpp server, run every test
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# torch first, pinned: the CPU wheel; a looser range would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: install install-test run test test-fast lint clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test,llm-server]'
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/assistant ingest seeds/
	$(BIN)/assistant ui

test: install-test
	$(BIN)/pytest -q

test-fast: install-test
	$(BIN)/pytest -q -m "not integration and not browser and not slow"

lint: install-test
	$(BIN)/ruff check assistant ui tests benchmarks

clean:
	rm -rf $(VENV) .assistant
