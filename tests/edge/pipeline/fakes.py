"""In-memory implementations of the cascade's Protocols: the policy runs in milliseconds with them.

They stand in for the models only in the policy tests; the real-model tests (test_cascade_cloud.py,
test_faults.py, the daemon tests) run the same cascade on llama.cpp, ONNX, SQLite and vLLM.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

from edge.core.protocols import (
    CacheHit,
    Draft,
    LazyVector,
    RouterAdvice,
    StopRule,
    UplinkDelta,
    UplinkDone,
    UplinkEvent,
)
from edge.core.query import Query
from shared.llama_runtime import StepToken
from shared.types import CacheHint, FinishReason, GenerationRequest, GenerationResult, ServerTimings


def steps_for(words: list[str], probability: float) -> list[StepToken]:
    lp = math.log(probability)
    steps = [StepToken(i, w, w, lp, (), 0.0, 0.0) for i, w in enumerate(words)]
    last = steps[-1]
    steps[-1] = StepToken(last.token_id, last.token, last.text, lp, (), 0.0, 0.0, FinishReason.STOP)
    return steps


class FakeGenerator:
    """Answers each question with fixed words at a fixed token probability."""

    model_name = "fake-edge"

    def __init__(self, answers: dict[str, tuple[list[str], float]]) -> None:
        self.answers = answers
        self._running = 0
        self.calls = 0

    @property
    def running(self) -> int:
        return self._running

    async def generate(
        self, query: Query, context: list[tuple[str, str]] | None = None, stop_when: StopRule | None = None
    ) -> Draft:
        self.calls += 1
        self._running += 1
        try:
            words, p = self.answers[query.question]
            steps: list[StepToken] = []
            for step in steps_for(words, p)[: query.sampling.max_tokens]:
                await asyncio.sleep(0)
                steps.append(step)
                if stop_when is not None and step.finish_reason is None and stop_when(steps):
                    return Draft(steps, 0.001, True, 5)
            return Draft(steps, 0.001, False, 5)
        finally:
            self._running -= 1

    async def complete(self, query: Query, draft: Draft, context: list[tuple[str, str]] | None = None) -> Draft:
        full = await self.generate(query)
        return Draft(full.steps, draft.seconds + full.seconds, draft.stopped_early, full.prompt_tokens)


class DictCache:
    def __init__(self) -> None:
        self.answers: dict[str, str] = {}

    async def lookup(self, query: Query, vector: LazyVector) -> CacheHit | None:
        answer = self.answers.get(query.key)
        return None if answer is None else CacheHit(answer, "cloud-model")

    async def store(
        self, query: Query, *, answer: str, model: str, ttl_s: float, meta: dict, vector: LazyVector
    ) -> None:
        self.answers[query.key] = answer

    async def context_for(self, query: Query, vector: LazyVector) -> list[tuple[str, str]]:
        return []

    async def audited(self, query: Query, hit: CacheHit, fresh: GenerationResult, vector: LazyVector) -> bool | None:
        return None  # exact hits only: never audited


class FixedRouter:
    """Advice by question: a bare score (exactly known) or a RouterAdvice with bounds."""

    def __init__(self, advice: dict[str, float | RouterAdvice]) -> None:
        self.advice = advice

    async def advise(self, vector: LazyVector) -> RouterAdvice:
        given = self.advice.get(vector.text)
        if given is None:
            return RouterAdvice(None)
        return given if isinstance(given, RouterAdvice) else RouterAdvice.exact(given)


class ScriptedUplink:
    """Streams `words` as deltas; `fail_after` deltas it fails instead (None: never). Records cancellations."""

    def __init__(self, words: list[str], fail_after: int | None = None, delay_s: float = 0.0) -> None:
        self.words = words
        self.fail_after = fail_after
        self.delay_s = delay_s
        self.requests: list[GenerationRequest] = []
        self.open_streams = 0
        self.cancelled = 0
        self.available = True

    async def stream(self, request: GenerationRequest) -> AsyncIterator[UplinkEvent]:
        self.requests.append(request)
        self.open_streams += 1
        finished = False
        try:
            for i, word in enumerate(self.words):
                if self.fail_after is not None and i >= self.fail_after:
                    finished = True
                    yield UplinkDone(None, "cloud_unreachable", "scripted failure")
                    return
                await asyncio.sleep(self.delay_s)
                yield UplinkDelta(word)
            finished = True
            yield UplinkDone(self._result(request))
        finally:
            self.open_streams -= 1
            self.cancelled += not finished

    def _result(self, request: GenerationRequest) -> GenerationResult:
        return cloud_result(self.words, request.request_id)


def cloud_result(words: list[str], request_id: str = "r") -> GenerationResult:
    """A cacheable cloud answer made of `words`."""
    return GenerationResult(
        request_id=request_id,
        text="".join(words),
        tokens=(),
        finish_reason=FinishReason.STOP,
        model="cloud-model",
        prompt_tokens=7,
        completion_tokens=len(words),
        timings=ServerTimings(0.0, 1.0, 2.0),
        cache=CacheHint(True, 3600),
    )


class ListLabels:
    """Collects the labels the cascade records (agreement, audits)."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bool, str]] = []
        self.cloud_sides: list[float | None] = []

    async def record(
        self, question: str, vector: LazyVector, *, edge_correct: bool, source: str, steps=(), cloud_correct=None
    ) -> None:
        self.records.append((question, edge_correct, source))
        self.cloud_sides.append(cloud_correct)
