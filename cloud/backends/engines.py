"""An engine in this process (vLLM or llama.cpp): the cloud's in-process backend, and each Ray replica's."""

from __future__ import annotations

from pathlib import Path

from cloud.backends.base import GenerationBackend
from shared.config import CloudConfig


def create_engine(config: CloudConfig, data_dir: Path) -> GenerationBackend:
    backend = config.engine.backend
    if backend == "vllm":
        from cloud.backends.vllm_backend import VllmBackend

        return VllmBackend(config, data_dir)
    if backend == "llamacpp":
        from cloud.backends.llamacpp_backend import LlamaCppBackend

        return LlamaCppBackend(config, data_dir)
    raise ValueError(f"unknown engine {backend!r}; choose vllm or llamacpp")
