"""Generation engines behind one Protocol; `create_backend` picks one by config."""

from __future__ import annotations

from pathlib import Path

from cloud.backends.base import GenerationBackend
from shared.cloud_config import CloudConfig


def create_backend(config: CloudConfig, data_dir: Path) -> GenerationBackend:
    """Imports only the selected engine, so a llama.cpp host never needs vLLM and vice versa."""
    if config.backend == "vllm":
        from cloud.backends.vllm_backend import VllmBackend

        return VllmBackend(config, data_dir)
    if config.backend == "llamacpp":
        from cloud.backends.llamacpp_backend import LlamaCppBackend

        return LlamaCppBackend(config, data_dir)
    if config.backend == "ray":
        from cloud.backends.ray_backend import RayBackend

        return RayBackend(config, data_dir)
    raise ValueError(f"unknown backend {config.backend!r}; choose vllm, llamacpp or ray")


__all__ = ["GenerationBackend", "create_backend"]
