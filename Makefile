# Two entry points for a fresh machine (see README):
#   make run   - install, ingest the seed article, open the chat (embedded store, offline)
#   make test  - install with test extras, Chromium and the llama.cpp server, run every test
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# torch first, pinned: the CPU wheel; a looser range would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

# llama.cpp (llama-cpp-python, extra llm-server) is compiled from source. Built for the build
# machine's CPU (the default) it can die on another CPU (SIGSEGV/GPF in libggml-cpu), so it is
# built portably, once, into a cache folder keyed by version and flags; pip's own wheel cache
# could otherwise hand back a wheel built natively earlier under the same name and version.
LLAMA := llama-cpp-python==0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF
LLAMA_KEY := $(shell echo '$(LLAMA) $(LLAMA_CMAKE_ARGS)' | sha1sum | cut -c1-12)
LLAMA_WHEELS ?= $(HOME)/.cache/news-assistant/llama-wheels/$(LLAMA_KEY)

.PHONY: install install-test llama-wheel run test test-fast lint mypy check-install clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e .
	@touch $@

$(LLAMA_WHEELS)/.built: | $(BIN)/python
	mkdir -p $(LLAMA_WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel -q --no-deps --no-binary llama-cpp-python \
		--no-cache-dir -w $(LLAMA_WHEELS) '$(LLAMA)'
	@touch $@

llama-wheel: $(LLAMA_WHEELS)/.built

$(VENV)/.installed-test: $(VENV)/.installed $(LLAMA_WHEELS)/.built
	$(BIN)/pip install -q --find-links $(LLAMA_WHEELS) -e '.[test,llm-server]'
	# the portable build, even over a native one installed earlier in this venv
	$(BIN)/pip install -q --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/assistant ingest seeds/
	$(BIN)/assistant ui

# What CI runs (.ci/run): lint and types, every test (required suites fail instead of skipping
# under CI=true), then the wheel installed into a fresh venv outside the repository.
test: install-test
	$(BIN)/ruff check assistant ui tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q
	PYTHON=$(PYTHON) bash .ci/check-install $(BIN)/python

check-install: install-test
	PYTHON=$(PYTHON) bash .ci/check-install $(BIN)/python

mypy: install-test
	$(BIN)/mypy

test-fast: install-test
	$(BIN)/pytest -q -m "not integration and not browser and not slow"

lint: install-test
	$(BIN)/ruff check assistant ui tests benchmarks

clean:
	rm -rf $(VENV) .assistant
