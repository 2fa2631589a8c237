"""Generation engines behind one Protocol; `create_backend` picks one by config."""

from __future__ import annotations

from pathlib import Path

from cloud.backends.base import GenerationBackend
from cloud.backends.engines import create_engine
from shared.config import CloudConfig


def create_backend(config: CloudConfig, data_dir: Path) -> GenerationBackend:
    """Imports only the selected engine, so a llama.cpp host never needs vLLM and vice versa."""
    if config.engine.backend == "ray":
        from cloud.backends.ray_backend import RayBackend

        return RayBackend(config, data_dir)
    return create_engine(config, data_dir)


__all__ = ["GenerationBackend", "create_backend"]
