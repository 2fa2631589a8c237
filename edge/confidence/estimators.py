"""Confidence estimators: map the per-token signals of an edge answer to a score in [0, 1].

Each estimator is a per-token value plus an aggregate. Because every per-token
value has a best case (probability 1, margin 1, entropy 0), the highest score a
partial answer can still reach is the aggregate with the remaining token budget
filled with best cases: that one rule, written once in `TokenEstimator`, drives
early escalation for every estimator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from edge.confidence.learned import LearnedEstimator
from edge.confidence.refit import RefitPolicy, RefittingLearned
from edge.core.protocols import TEACHER_SOURCES, ConfidenceEstimator
from shared.config import EdgeConfig
from shared.llama_runtime import StepToken


class TokenEstimator:
    name = "base"
    best_value = 0.0

    def value(self, step: StepToken) -> float:
        raise NotImplementedError

    def aggregate(self, values: np.ndarray) -> float:
        raise NotImplementedError

    def score(self, steps: Sequence[StepToken]) -> float:
        if not steps:
            return 0.0
        return _clip(self.aggregate(np.array([self.value(s) for s in steps])))

    def upper_bound(self, steps: Sequence[StepToken], max_tokens: int) -> float:
        if not steps:
            return 1.0
        values = [self.value(s) for s in steps] + [self.best_value] * max(0, max_tokens - len(steps))
        return _clip(self.aggregate(np.array(values)))


def _clip(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


class MeanLogprob(TokenEstimator):
    """Geometric mean of token probabilities: exp(mean log-prob)."""

    name = "mean_logprob"

    def value(self, step: StepToken) -> float:
        return step.logprob

    def aggregate(self, values: np.ndarray) -> float:
        return math.exp(values.mean())


class MinLogprob(TokenEstimator):
    """Probability of the least likely token: one doubtful token sinks the answer."""

    name = "min_logprob"

    def value(self, step: StepToken) -> float:
        return step.logprob

    def aggregate(self, values: np.ndarray) -> float:
        return math.exp(values.min())


class QuantileProb(TokenEstimator):
    """A low quantile of token probabilities (Gupta et al. 2024): robust to one odd token, unlike min."""

    name = "quantile"
    best_value = 1.0

    def __init__(self, q: float = 0.1) -> None:
        self.q = q

    def value(self, step: StepToken) -> float:
        return math.exp(step.logprob)

    def aggregate(self, values: np.ndarray) -> float:
        return float(np.quantile(values, self.q))


class MeanMargin(TokenEstimator):
    """Mean gap between the best and second-best token probability."""

    name = "margin"
    best_value = 1.0

    def value(self, step: StepToken) -> float:
        return step.margin

    def aggregate(self, values: np.ndarray) -> float:
        return float(values.mean())


class MeanEntropy(TokenEstimator):
    """exp(-mean entropy): 1 when every step is certain, falling as the distribution spreads."""

    name = "entropy"

    def value(self, step: StepToken) -> float:
        return step.entropy

    def aggregate(self, values: np.ndarray) -> float:
        return math.exp(-values.mean())


ESTIMATORS: dict[str, type[TokenEstimator]] = {
    cls.name: cls for cls in (MeanLogprob, MinLogprob, QuantileProb, MeanMargin, MeanEntropy)
}


def create_estimator(name: str, quantile: float = 0.1) -> ConfidenceEstimator:
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; choose one of {', '.join(ESTIMATORS)}")
    return QuantileProb(quantile) if name == "quantile" else ESTIMATORS[name]()


# Every estimator calibrate can compare: the token rules, and the rule it fits from labels.
ALL_ESTIMATORS = (*ESTIMATORS, LearnedEstimator.name)


def configured_estimator(edge: EdgeConfig, edge_model: str) -> ConfidenceEstimator:
    """The estimator the daemon scores with; a learned one is loaded (and checked) from its artifact."""
    c = edge.confidence
    if c.estimator == LearnedEstimator.name:
        return LearnedEstimator.load(Path(c.learned_path), edge_model, edge.local.rendering)
    return create_estimator(c.estimator, c.quantile)


def refitting(
    estimator: ConfidenceEstimator, edge: EdgeConfig, stored: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> RefittingLearned | None:
    """A namespace's own copy of the learned rule, refit from its labels (`stored`: those kept before; None: no
    learned rule, or refits off)."""
    c = edge.confidence
    if not isinstance(estimator, LearnedEstimator) or not c.learned_refit_every or not edge.routing.agreement_labels:
        return None
    teacher = RefitPolicy(c.learned_refit_every, c.learned_refit_min_s, edge.routing.agreement_weight, TEACHER_SOURCES)
    return RefittingLearned(estimator, teacher, stored())
