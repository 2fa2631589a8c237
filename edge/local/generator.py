"""Local generation on llama.cpp: one context, a bounded queue in front of it, and early stopping."""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing

from edge.core.protocols import Draft, StopRule
from edge.core.query import Query
from shared.errors import InvalidRequest, Overloaded
from shared.llama_runtime import LlamaCppRunner, StepToken
from shared.types import SamplingParams


class LlamaGenerator:
    """Implements `LocalGenerator`. Cancelling a caller stops its generation within one token."""

    def __init__(self, runner: LlamaCppRunner, max_queue: int) -> None:
        self.runner = runner
        self.max_queue = max_queue
        self.model_name = runner.model_path.stem
        self._running = 0

    @property
    def running(self) -> int:
        return self._running

    async def _prompt_ids(self, query: Query, context: list[tuple[str, str]] | None, max_tokens: int) -> list[int]:
        prompt, messages = query.rendered(context)
        if messages is not None:
            ids = await asyncio.to_thread(self.runner.tokenize_chat, messages)
        else:
            ids = await asyncio.to_thread(self.runner.tokenize, prompt or "")
        if len(ids) + max_tokens > self.runner.n_ctx:
            raise InvalidRequest(
                f"the input has {len(ids)} tokens; with max_tokens={max_tokens} it exceeds "
                f"the edge context of {self.runner.n_ctx} tokens"
            )
        return ids

    async def generate(
        self, query: Query, context: list[tuple[str, str]] | None = None, stop_when: StopRule | None = None
    ) -> Draft:
        sampling = query.sampling
        ids = await self._prompt_ids(query, context, sampling.max_tokens)
        return await self._run(ids, sampling, stop_when, query.top_logprobs)

    async def complete(self, query: Query, draft: Draft, context: list[tuple[str, str]] | None = None) -> Draft:
        """Continues a draft cut short by early escalation (llama.cpp's KV cache still holds its prefix)."""
        sampling = query.sampling
        ids = await self._prompt_ids(query, context, sampling.max_tokens)
        rest = SamplingParams(
            max_tokens=max(1, sampling.max_tokens - len(draft.steps)),
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            stop=sampling.stop,
            seed=sampling.seed,
        )
        more = await self._run(ids + [s.token_id for s in draft.steps], rest, None, query.top_logprobs)
        # The flag stays: the report should still say that escalation started early.
        return Draft(draft.steps + more.steps, draft.seconds + more.seconds, draft.stopped_early, len(ids))

    async def _run(
        self, prompt_ids: list[int], sampling: SamplingParams, stop_when: StopRule | None, top_n: int
    ) -> Draft:
        if self._running >= self.max_queue:
            raise Overloaded(f"{self._running} local generations are already queued; retry later")
        self._running += 1
        try:
            started = time.perf_counter()
            steps: list[StepToken] = []
            stopped_early = False
            async with aclosing(self.runner.astream(prompt_ids, sampling, top_n)) as stream:
                async for step in stream:
                    steps.append(step)
                    if stop_when is not None and step.finish_reason is None and stop_when(steps):
                        stopped_early = True
                        break
            return Draft(steps, time.perf_counter() - started, stopped_early, len(prompt_ids))
        finally:
            self._running -= 1
