"""A learned deferral rule (Gupta et al. 2024, post-hoc): logistic regression over the edge answer's signals.

Features: quantiles of the token probabilities, mean margin and entropy, answer length, and the router's
stay-local score with its evidence. Fitted on the calibration split to predict "the edge answer is right";
its probability is a confidence score like any estimator's. Plain numpy (Newton steps with an L2 penalty):
no new dependency for a dozen features.
"""

from __future__ import annotations

import numpy as np

from edge.calibration.outcomes import Outcome
from edge.pipeline.protocols import RouterAdvice

FEATURES = (
    "mean_logprob",
    "min_prob",
    "q10_prob",
    "q50_prob",
    "mean_margin",
    "mean_entropy",
    "length",
    "router",
    "router_known",
)


def features(outcome: Outcome, advice: RouterAdvice | None) -> np.ndarray:
    lp = np.array(outcome.edge.logprobs) if outcome.edge.logprobs else np.zeros(1)
    probs = np.exp(lp)
    known = advice is not None and advice.confidence is not None
    return np.array(
        [
            lp.mean(),
            probs.min(),
            np.quantile(probs, 0.1),
            np.quantile(probs, 0.5),
            np.mean(outcome.edge.margins) if outcome.edge.margins else 0.0,
            np.mean(outcome.edge.entropies) if outcome.edge.entropies else 0.0,
            np.log1p(len(outcome.edge.logprobs)),
            advice.confidence if known else 0.5,
            float(known),
        ]
    )


class LogisticDeferral:
    def __init__(self, l2: float = 1.0, steps: int = 50) -> None:
        self.l2 = l2
        self.steps = steps
        self.weights: np.ndarray | None = None
        self._mean = self._scale = None

    def _design(self, x: np.ndarray) -> np.ndarray:
        return np.hstack([np.ones((len(x), 1)), (x - self._mean) / self._scale])

    def fit(self, x: np.ndarray, y: np.ndarray) -> LogisticDeferral:
        self._mean, self._scale = x.mean(0), x.std(0) + 1e-9
        design = self._design(x)
        w = np.zeros(design.shape[1])
        penalty = self.l2 * np.eye(len(w))
        penalty[0, 0] = 0.0  # the intercept is not shrunk
        for _ in range(self.steps):
            p = 1.0 / (1.0 + np.exp(-design @ w))
            gradient = design.T @ (p - y) + penalty @ w
            hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        self.weights = w
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        assert self.weights is not None, "fit first"
        return 1.0 / (1.0 + np.exp(-self._design(x) @ self.weights))
