# article-qa task runner. `make run` and `make test` work on a fresh machine:
# they create .venv, install torch's CPU build first, then the project.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export QA_MODEL_CACHE_DIR ?= var/models
export QA_INDEX_DIR ?= var/index

.PHONY: help install model browser index run serve test test-fast lint format bench load clean

help:
	@echo "make run      - install, prepare the model, index data/sample, serve on http://127.0.0.1:8000"
	@echo "make test     - install, prepare the model and chromium, run every test"
	@echo "make test-fast- unit tests only (fakes, no real model)"
	@echo "make lint     - ruff (lint + format check) and mypy"
	@echo "make bench    - ingest throughput and /v1/ask latency on the sample index"
	@echo "make load     - 32 clients for 5 minutes on /v1/ask and the stream, 1 then 2 workers"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

model: install
	$(BIN)/python -m index.e5_model $(QA_MODEL_CACHE_DIR)

index: model
	$(BIN)/qa ingest data/sample

run: index
	@echo "demo page with the chat widget: http://$${QA_HOST:-127.0.0.1}:$${QA_PORT:-8000}/"
	$(BIN)/qa serve

serve: install
	$(BIN)/qa serve

# Headless Chromium for the widget's browser tests (Debian's package, driven by Playwright),
# and a CJK font so that screenshots show the Chinese text.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@test -x /usr/bin/chromium && fc-list :lang=zh 2>/dev/null | grep -q . || \
	  ($(SUDO) apt-get update && \
	   $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei)

test: model browser
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not e2e"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: model
	$(BIN)/python benchmarks/bench_service.py

# On the sample index (make index); LOAD_ARGS adds options, e.g. LOAD_ARGS="--duration 30".
load: index
	$(BIN)/python benchmarks/load.py --workers 1,2 $(LOAD_ARGS)

clean:
	rm -rf var test-artifacts .pytest_cache .mypy_cache .ruff_cache
