"""The realized cloud share over recent decisions, and an optional controller that holds it at a target.

Traffic drifts: a threshold calibrated on one mix of questions escalates more or less of another. With a
target, each decision nudges a threshold offset (Robbins-Monro): an escalation lowers it by step * (1 - target),
an answer kept local raises it by step * target, so the offset settles where the escalation rate equals the
target. The k-th decision after start steps step * (window / (k + 5)) ** 0.75 while that is above step (a
decaying Robbins-Monro gain, its first step 0.14 with the defaults): a threshold calibrated on other traffic is
corrected within tens of decisions, not hundreds, and the offset then settles with the configured step.
Decisions the controller does not steer (the online guard's coin) count toward the share but do not move it.
Cache hits and forced routes are not decisions and do not count.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from itertools import count

WARMUP_POWER, WARMUP_OFFSET = 0.75, 5


@dataclass(frozen=True)
class ShareReport:
    realized: float | None  # escalated share of the last `window` decisions (None before the first)
    decisions: int
    window: int
    target: float | None
    offset: float


class ShareTracker:
    def __init__(self, target: float | None, window: int = 200, step: float = 0.01, limit: float = 0.3) -> None:
        self.target = target
        self.step = step
        self.limit = limit
        self.offset = 0.0
        self._recent: deque[bool] = deque(maxlen=window)
        self._decisions = count(1)
        self._lock = threading.Lock()

    def observe(self, escalated: bool, steered: bool = True) -> None:
        """`steered`: the decision followed the threshold (a coin's does not, and must not move it)."""
        with self._lock:
            self._recent.append(escalated)
            if self.target is not None and steered:
                window = self._recent.maxlen or 1
                step = self.step * max(1.0, window / (next(self._decisions) + WARMUP_OFFSET)) ** WARMUP_POWER
                moved = self.offset - step * (float(escalated) - self.target)
                self.offset = min(self.limit, max(-self.limit, moved))

    def report(self) -> ShareReport:
        with self._lock:
            n = len(self._recent)
            realized = sum(self._recent) / n if n else None
            return ShareReport(realized, n, self._recent.maxlen or 0, self.target, self.offset)
