"""Audits against selection bias: answers kept local are never checked, so a random few are re-asked of the cloud
in the background (never delaying the app's answer); `edge.pipeline.teacher` labels them like an escalated draft."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass

from edge.core.protocols import Uplink, settle
from shared.types import GenerationRequest, GenerationResult

log = logging.getLogger(__name__)
HOUR_S = 3600.0


@dataclass(frozen=True)
class AuditReport:
    rate: float  # configured share of local answers to audit
    per_hour: int  # budget
    eligible: int  # local answers the policy kept since start
    sampled: int  # audits started
    over_budget: int  # sampled but skipped: the hour's budget was spent
    finished: int
    failed: int  # the cloud did not answer


class AuditSampler:
    """Draws each kept local answer with probability `rate`, at most `per_hour` audits in any sliding hour."""

    def __init__(
        self,
        rate: float,
        per_hour: int,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.per_hour = per_hour
        self._rng = rng or random.Random()
        self._clock = clock
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._counts = {"eligible": 0, "sampled": 0, "over_budget": 0, "finished": 0, "failed": 0}

    def take(self, rate: float | None = None) -> bool:
        """Whether to audit this kept answer (`rate`: instead of the configured one, the guard's warm-up)."""
        rate = self.rate if rate is None else rate
        with self._lock:
            self._counts["eligible"] += 1
            if rate <= 0 or self._rng.random() >= rate:
                return False
            now = self._clock()
            while self._recent and self._recent[0] <= now - HOUR_S:
                self._recent.popleft()
            if len(self._recent) >= self.per_hour:
                self._counts["over_budget"] += 1
                return False
            self._recent.append(now)
            self._counts["sampled"] += 1
            return True

    def settled(self, answered: bool) -> None:
        with self._lock:
            self._counts["finished" if answered else "failed"] += 1

    def report(self) -> AuditReport:
        with self._lock:
            return AuditReport(self.rate, self.per_hour, **self._counts)


class Auditor:
    """Runs the sampled audits as background tasks: the app has its answer already; closing cancels them."""

    def __init__(self, sampler: AuditSampler, uplink: Uplink) -> None:
        self.sampler = sampler
        self._uplink = uplink
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> int:
        return len(self._tasks)

    def consider(
        self,
        request: Callable[[], GenerationRequest],
        on_answer: Callable[[GenerationResult], Awaitable[None]],
        rate: float | None = None,
    ) -> None:
        """Maybe audits a kept answer (`request` builds the cloud's, only when sampled; `on_answer` gets the
        cloud's answer); returns at once."""
        if not self.sampler.take(rate):
            return
        task = asyncio.get_running_loop().create_task(self._audit(request(), on_answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _audit(
        self, request: GenerationRequest, on_answer: Callable[[GenerationResult], Awaitable[None]]
    ) -> None:
        try:
            async with aclosing(self._uplink.stream(request)) as events:
                done = await settle(events)
            self.sampler.settled(done.result is not None)
            if done.result is not None:
                await on_answer(done.result)
        except Exception:  # an audit must never take the daemon down; it is only a label lost
            log.exception("audit failed")

    async def settle(self) -> None:
        """Waits for the audits running now (graceful drain, tests)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
