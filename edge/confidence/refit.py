"""The learned rule, refit in service from the namespace's own labels at a bounded rate.

calibrate fits the rule once (`edge.confidence.learned`); traffic then labels drafts for free (agreement with the
cloud, audits, app feedback on edge answers), stored with the draft's features. Once `refit_every` new labels
have arrived, and not sooner than `refit_min_s` after the last refit, the rule is refit on all of them with the
calibrated rule as its prior (`LogisticDeferral.refit`), so a handful of labels cannot swing it; a label from the
cloud as teacher counts `teacher_weight`. Each namespace refits its own copy: one app's traffic does not move
another's rule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from edge.confidence.learned import LearnedEstimator, token_features
from shared.llama_runtime import StepToken


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
        self._x: list[np.ndarray] = []
        self._y: list[float] = []
        self._w: list[float] = []
        self._pending = 0
        self._last = -np.inf
        self.refits = 0
        self._current = fitted
        if history is not None:  # labels stored before a restart count toward the rule now
            for x, y, source in zip(*history, strict=True):
                self._add(x, float(y), str(source))
            self._refit()

    def score(self, steps: Sequence[StepToken]) -> float:
        return self._current.score(steps)

    def upper_bound(self, steps: Sequence[StepToken], max_tokens: int) -> float:
        return self._current.upper_bound(steps, max_tokens)

    def features(self, steps: Sequence[StepToken]) -> np.ndarray:
        return token_features(steps)

    def learn(self, features: np.ndarray, edge_correct: bool, source: str) -> None:
        with self._lock:
            self._add(features, float(edge_correct), source)
            self._pending += 1
            due = self.policy.every and self._pending >= self.policy.every
            if due and self._clock() - self._last >= self.policy.min_s:
                self._refit()

    def _add(self, x: np.ndarray, y: float, source: str) -> None:
        self._x.append(np.asarray(x, np.float64))
        self._y.append(y)
        self._w.append(self.policy.teacher_weight if source in self.policy.teacher_sources else 1.0)

    def _refit(self) -> None:
        if not self._x:
            return
        rule = self.fitted.rule.refit(np.stack(self._x), np.array(self._y), np.array(self._w))
        self._current = LearnedEstimator(rule, self.fitted.edge_model, self.fitted.prompt_style)
        self._pending, self._last = 0, self._clock()
        self.refits += 1
