"""The edge's local model: a llama.cpp context over a known model's GGUF (Qwen2.5-Coder-0.5B by default)."""

from __future__ import annotations

from pathlib import Path

from shared.config import LocalModelConfig
from shared.llama_runtime import LlamaCppRunner
from shared.model_files import model_gguf


def local_gguf(config: LocalModelConfig, data_dir: Path) -> Path:
    """`model_path`, or the known model's GGUF: found in its package or assembled from its parts, never downloaded."""
    return Path(config.model_path) if config.model_path else model_gguf(data_dir, config.model)


def load_local_model(config: LocalModelConfig, data_dir: Path) -> LlamaCppRunner:
    return LlamaCppRunner(local_gguf(config, data_dir), n_ctx=config.n_ctx, n_threads=config.threads)
