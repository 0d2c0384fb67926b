# article-qa task runner. `make run` and `make test` work on a fresh machine: they create .venv
# with Python 3.11 and install exactly requirements.lock (hash-checked, torch's CPU build included).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock
# The CPU build of torch (requirements.in) is found here on these machines; pip's own config may add more.
TORCH_WHEELS ?= /opt/wheels
PIP_FLAGS := --quiet --disable-pip-version-check --find-links $(TORCH_WHEELS)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export QA_MODEL_CACHE_DIR ?= var/models
export QA_INDEX_DIR ?= var/index

.PHONY: help python install lock lock-upgrade lock-check model browser index run serve test test-fast \
	test-latest lint docs format bench bench-scale bench-milvus load clean

help:
	@echo "make run      - install, prepare the model, index data/sample, serve on http://127.0.0.1:8000"
	@echo "make test     - install, prepare the model and chromium, run every test"
	@echo "make test-fast- unit tests only (fakes, no real model, no fuzzing)"
	@echo "make test-latest - every test in .venv-latest with the newest releases pyproject.toml allows"
	@echo "make lock     - re-resolve requirements.lock after pyproject.toml or requirements.in changed"
	@echo "make lock-upgrade - requirements.lock with the newest releases the ranges allow"
	@echo "make docs     - regenerate docs/configuration.md from the settings class"
	@echo "make lint     - ruff (lint + format check), mypy, the lock check and the layering contract"
	@echo "make bench    - ingest throughput and /v1/ask latency on the sample index, then the"
	@echo "               embedding runtimes side by side (torch, ONNX fp32, ONNX int8; needs ../shared/eval),"
	@echo "               and PDF/Word/scan extraction quality against pdfplumber, pypdfium2, pypdf"
	@echo "make bench-scale - retrieval at 10k, 100k and 1M chunks (docs/scaling.md; ~7 GB in var/scale)"
	@echo "make bench-milvus - the Milvus Lite backend beside the local one at 10k and 100k chunks"
	@echo "make load     - 32 clients for 5 minutes on /v1/ask and the stream, 1 then 2 workers"

# The locked install runs on CPython 3.11 only (the lock and torch's CPU wheel are for 3.11).
python:
	@v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	if [ "$$v" != 3.11 ]; then \
	  echo "error: article-qa installs with Python 3.11, but '$(PYTHON)' is $${v:-not found}." \
	    "Install python3.11, or run: make PYTHON=/path/to/python3.11 <target>" >&2; exit 1; fi
	@if test -x $(BIN)/python && \
	  ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then \
	  echo "error: $(VENV) was made with a Python other than 3.11." \
	    "Remove it (rm -rf $(VENV)) and run make again." >&2; exit 1; fi

lock-check: python
	@$(PYTHON) scripts/lockfile.py check

# Exactly the lock, hash-checked, then the project itself without dependencies; pip check proves
# the lock is complete.
$(STAMP): pyproject.toml requirements.in $(LOCK)
	@$(MAKE) --no-print-directory lock-check
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

install: python $(STAMP)

# Re-resolve the lock with the locked uv, or any uv on PATH: `make lock` keeps every pin the
# inputs still allow; `make lock-upgrade` moves every package to the newest release allowed.
UV = $$(test -x $(BIN)/uv && echo $(BIN)/uv || command -v uv || echo uv)
lock: python
	$(PYTHON) scripts/lockfile.py write --uv "$(UV)" --find-links $(TORCH_WHEELS)

lock-upgrade: python
	$(PYTHON) scripts/lockfile.py write --uv "$(UV)" --find-links $(TORCH_WHEELS) --upgrade

model: install
	$(BIN)/python -m index.embed.e5_model $(QA_MODEL_CACHE_DIR)

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

# The same suite in its own venv with the newest releases that pyproject.toml's ranges allow (torch
# stays the CPU 2.13.0 build): finds the next upstream break before a user does. Not run by CI.
LATEST := .venv-latest
test-latest: python model browser
	test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(LATEST)/bin/python -m pip install $(PIP_FLAGS) --upgrade --upgrade-strategy eager \
	  --constraint requirements.in -e '.[dev]'
	$(LATEST)/bin/python scripts/lockfile.py compare
	$(LATEST)/bin/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not e2e and not browser and not crash_safety and not fuzz and not ray and not milvus and not ocr"

lint: install lock-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python scripts/layers.py

# docs/configuration.md from the settings class (tests/test_settings.py checks it is current)
docs: install
	$(BIN)/python scripts/config_doc.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: model
	$(BIN)/python benchmarks/bench_service.py
	$(BIN)/python benchmarks/bench_embed.py $(EMBED_ARGS)
	$(BIN)/python benchmarks/bench_documents.py

# Grows the evaluation index to 10k, 100k and 1M chunks; SCALE_ARGS adds options (--sizes ...).
bench-scale: model
	$(BIN)/python benchmarks/scale.py $(SCALE_ARGS)

# Milvus Lite beside the local backend on bench-scale's 10k and 100k indexes.
bench-milvus: model
	$(BIN)/python benchmarks/milvus_scale.py $(MILVUS_ARGS)

# On the sample index (make index); LOAD_ARGS adds options, e.g. LOAD_ARGS="--duration 30".
load: index
	$(BIN)/python benchmarks/load.py --workers 1,2 $(LOAD_ARGS)

clean:
	rm -rf var test-artifacts .pytest_cache .mypy_cache .ruff_cache
