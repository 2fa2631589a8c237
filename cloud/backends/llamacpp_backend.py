"""The alternative engine for hosts where vLLM cannot run: llama.cpp over a GGUF file.

One context serves one request at a time; concurrent requests wait their turn
(the wait is reported as queue time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

from cloud.backends.base import EngineDescription, check_fits_context
from shared.config import CloudConfig
from shared.errors import BackendFailure
from shared.llama_runtime import LlamaCppRunner
from shared.model_files import model_gguf
from shared.types import (
    BackendStats,
    GenerationChunk,
    GenerationRequest,
    TokenLogprob,
    VerificationReport,
    VerifyMode,
)


class LlamaCppBackend:
    def __init__(self, config: CloudConfig, data_dir: Path) -> None:
        self._config = config
        self._data_dir = data_dir
        self._runner: LlamaCppRunner | None = None
        self._in_flight = 0

    async def start(self) -> EngineDescription:
        engine = self._config.engine
        path = Path(engine.gguf_path) if engine.gguf_path else model_gguf(self._data_dir, engine.known_model)
        self._runner = await asyncio.to_thread(LlamaCppRunner, path, engine.max_model_len, engine.threads, engine.seed)
        model_id = self._config.engine.served_model_id or path.stem
        return EngineDescription(model_id=model_id, backend="llamacpp", max_context_tokens=self._runner.n_ctx)

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationChunk, None]:
        runner = self._runner
        if runner is None:
            raise BackendFailure("engine not started")
        if request.messages is not None:
            prompt_ids = runner.tokenize_chat(request.messages)
        else:
            prompt_ids = runner.tokenize(request.prompt or "")
        check_fits_context(len(prompt_ids), request.sampling.max_tokens, runner.n_ctx)
        queued_at = time.perf_counter()
        started: list[float] = []
        completion = 0
        self._in_flight += 1
        stream = runner.astream(
            prompt_ids,
            request.sampling,
            request.top_logprobs or 0,
            on_start=lambda: started.append(time.perf_counter()),
        )
        try:
            async with aclosing(stream):
                async for step in stream:
                    completion += 1
                    yield GenerationChunk(
                        text=step.text,
                        tokens=(TokenLogprob(step.token_id, step.token, step.logprob, step.top),)
                        if request.top_logprobs is not None
                        else (),
                        finish_reason=step.finish_reason,
                        prompt_tokens=len(prompt_ids),
                        completion_tokens=completion,
                        queue_ms=(started[0] - queued_at) * 1000,
                        verification=_not_verified(request) if step.finish_reason else None,
                    )
        finally:
            self._in_flight -= 1

    async def check_health(self) -> bool:
        return self._runner is not None

    def stats(self) -> BackendStats:
        return BackendStats(unfinished_requests=self._in_flight)

    async def shutdown(self) -> None:
        if self._runner is not None:
            self._runner.close()
            self._runner = None


def _not_verified(request: GenerationRequest) -> VerificationReport | None:
    """A draft to verify is answered as if unverified, and says so (llama.cpp gives no prompt log-probs here)."""
    if request.verify is None or request.verify.mode == VerifyMode.OFF:
        return None
    return VerificationReport(request.verify.mode, 0, 0, "not verified: the llama.cpp backend does not verify drafts")
