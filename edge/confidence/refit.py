"""The learned rule, refit in service from the namespace's own labels at a bounded rate.

calibrate fits the rule once (`edge.confidence.learned`); traffic then labels drafts for free (agreement with the
cloud, audits), stored with the draft's features. Once `refit_every` new labels have arrived, and not sooner than
`refit_min_s` after the last refit, the rule is refit on the most recent `HISTORY` of them with the calibrated
rule as its prior (`LogisticDeferral.refit`), so a handful of labels cannot swing it; a label from the cloud as
teacher counts `teacher_weight`. The fit runs outside the lock (scoring never waits for it). Each namespace
refits its own copy: one app's traffic does not move another's rule.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edge.confidence.learned import LearnedEstimator
from shared.llama_runtime import StepToken

HISTORY = 2000  # labels a refit sees: recent traffic, a bounded fit


@dataclass(frozen=True)
class RefitPolicy:
    every: int  # new labels before a refit (0: never)
    min_s: float  # at least this long between refits
    teacher_weight: float  # what a label from the cloud's answer counts
    teacher_sources: tuple[str, ...]


class RefittingLearned:
    """A `ConfidenceEstimator` (name "learned") that also takes labeled drafts (`learn`)."""

    name = LearnedEstimator.name

    def __init__(
        self,
        fitted: LearnedEstimator,
        policy: RefitPolicy,
        history: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fitted = fitted
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._rows: deque[tuple[np.ndarray, float, float]] = deque(maxlen=HISTORY)  # features, label, weight
        self._pending = 0
        self._last = -np.inf
        self.refits = 0
        self._current = fitted
        if history is not None:  # labels stored before a restart count toward the rule now
            for x, y, source in zip(*history, strict=True):
                self._add(x, float(y), str(source))
            self._refit(list(self._rows))

    def score(self, steps: Sequence[StepToken]) -> float:
        return self._current.score(steps)

    def upper_bound(self, steps: Sequence[StepToken], max_tokens: int) -> float:
        return self._current.upper_bound(steps, max_tokens)

    def learn(self, features: np.ndarray, edge_correct: bool, source: str) -> None:
        with self._lock:
            self._add(features, float(edge_correct), source)
            self._pending += 1
            due = self.policy.every and self._pending >= self.policy.every
            if not due or self._clock() - self._last < self.policy.min_s:
                return
            self._pending, self._last = 0, self._clock()
            rows = list(self._rows)
        self._refit(rows)

    def _add(self, x: np.ndarray, y: float, source: str) -> None:
        weight = self.policy.teacher_weight if source in self.policy.teacher_sources else 1.0
        self._rows.append((np.asarray(x, np.float64), y, weight))

    def _refit(self, rows: list[tuple[np.ndarray, float, float]]) -> None:
        if not rows:
            return
        x = np.stack([row[0] for row in rows])
        y, w = np.array([row[1] for row in rows]), np.array([row[2] for row in rows])
        rule = self.fitted.rule.refit(x, y, w)
        with self._lock:
            self._current = LearnedEstimator(rule, self.fitted.edge_model, self.fitted.prompt_style)
            self.refits += 1
