"""The learned deferral rule as a served estimator (Gupta et al. 2024, post-hoc): a logistic regression over
the edge answer's token signals, fitted by `tandem-edge calibrate` to predict "the edge answer is right".

Its features are what the daemon has when it decides, at no extra edge time: quantiles of the token
probabilities, mean margin and entropy, answer length. The router is not a feature: its advice is mixed in
by `edge.pipeline.decision` as for every estimator, so replay and service stay one computation. Plain numpy
(Newton steps with an L2 penalty): no new dependency for a few features.

The fitted rule is a versioned JSON artifact that names the edge model and prompt style it was fitted for;
the daemon refuses one that is stale or fitted for another model, naming what to re-run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from shared.errors import InvalidConfig
from shared.files import write_atomic
from shared.llama_runtime import StepToken

FEATURES = ("mean_logprob", "min_prob", "q10_prob", "q50_prob", "mean_margin", "mean_entropy", "length")
ARTIFACT_FORMAT = "tandem.learned-estimator"
ARTIFACT_VERSION = 1
REFIT = "re-run `tandem-edge calibrate --estimators learned --write <config>`"


def token_features(steps: Sequence[StepToken]) -> np.ndarray:
    lp = np.array([s.logprob for s in steps]) if steps else np.zeros(1)
    probs = np.exp(lp)
    return np.array(
        [
            lp.mean(),
            probs.min(),
            np.quantile(probs, 0.1),
            np.quantile(probs, 0.5),
            np.mean([s.margin for s in steps]) if steps else 0.0,
            np.mean([s.entropy for s in steps]) if steps else 0.0,
            np.log1p(len(steps)),
        ]
    )


class LogisticDeferral:
    def __init__(self, l2: float = 1.0, steps: int = 50) -> None:
        self.l2 = l2
        self.steps = steps
        self.weights: np.ndarray | None = None
        self.mean = self.scale = np.zeros(0)

    def _design(self, x: np.ndarray) -> np.ndarray:
        return np.hstack([np.ones((len(x), 1)), (x - self.mean) / self.scale])

    def fit(self, x: np.ndarray, y: np.ndarray) -> LogisticDeferral:
        self.mean, self.scale = x.mean(0), x.std(0) + 1e-9
        self.weights = self._newton(self._design(x), y, np.ones(len(y)), np.zeros(x.shape[1] + 1), free_intercept=True)
        return self

    def refit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray) -> LogisticDeferral:
        """A new rule from more labels, this one as its prior: the penalty pulls toward these weights, not
        toward zero, so a few labels nudge the rule and many move it. The feature scaling is kept."""
        assert self.weights is not None
        rule = LogisticDeferral(self.l2, self.steps)
        rule.mean, rule.scale = self.mean, self.scale
        rule.weights = self._newton(self._design(x), y, sample_weight, self.weights, free_intercept=False)
        return rule

    def _newton(
        self, design: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, prior: np.ndarray, free_intercept: bool
    ) -> np.ndarray:
        w = prior.copy()
        penalty = self.l2 * np.eye(len(w))
        if free_intercept:  # a first fit does not shrink the base rate; a refit keeps it near its prior too
            penalty[0, 0] = 0.0

        def loss(v: np.ndarray) -> float:  # penalized negative log-likelihood, overflow-free
            z = design @ v
            nll = sample_weight * (np.logaddexp(0.0, z) - y * z)
            return float(nll.sum() + 0.5 * (v - prior) @ penalty @ (v - prior))

        for _ in range(self.steps):
            p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -500, 500)))
            gradient = design.T @ (sample_weight * (p - y)) + penalty @ (w - prior)
            hessian = design.T @ (design * (sample_weight * p * (1 - p))[:, None]) + penalty
            step = np.linalg.solve(hessian, gradient)
            # Halve the step until it helps: a saturated rule (p near 0 or 1) makes the plain Newton step overshoot.
            scale, before = 1.0, loss(w)
            while scale > 1e-6 and loss(w - scale * step) > before:
                scale /= 2
            w -= scale * step
            if np.abs(scale * step).max() < 1e-8:
                break
        return w

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.weights is None:
            raise RuntimeError("fit the rule before predicting")
        return 1.0 / (1.0 + np.exp(-self._design(x) @ self.weights))


class LearnedEstimator:
    """A `ConfidenceEstimator` whose score is the fitted rule's P(edge answer right)."""

    name = "learned"

    def __init__(self, rule: LogisticDeferral, edge_model: str, prompt_style: str) -> None:
        self.rule = rule
        self.edge_model = edge_model
        self.prompt_style = prompt_style

    @classmethod
    def fit(
        cls, drafts: Sequence[Sequence[StepToken]], edge_correct: np.ndarray, edge_model: str, prompt_style: str
    ) -> LearnedEstimator:
        if len(set(edge_correct.tolist())) < 2:
            raise InvalidConfig("the learned estimator needs labeled questions the edge got right and wrong")
        x = np.stack([token_features(d) for d in drafts])
        return cls(LogisticDeferral().fit(x, edge_correct.astype(float)), edge_model, prompt_style)

    def score(self, steps: Sequence[StepToken]) -> float:
        if not steps:
            return 0.0
        return float(self.rule.predict(token_features(steps)[None, :])[0])

    def upper_bound(self, steps: Sequence[StepToken], max_tokens: int) -> float:
        """No bound over continuations is known for the fitted rule: early escalation never stops its drafts."""
        return 1.0

    def save(self, path: Path, trained_on: int) -> None:
        assert self.rule.weights is not None
        artifact = {
            "format": ARTIFACT_FORMAT,
            "version": ARTIFACT_VERSION,
            "features": list(FEATURES),
            "edge_model": self.edge_model,
            "prompt_style": self.prompt_style,
            "trained_on": trained_on,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "mean": self.rule.mean.tolist(),
            "scale": self.rule.scale.tolist(),
            "weights": self.rule.weights.tolist(),
        }
        write_atomic(path, json.dumps(artifact, indent=1).encode())

    @classmethod
    def load(cls, path: Path, edge_model: str, prompt_style: str) -> LearnedEstimator:
        """The rule at `path`, refused with the reason when it cannot serve this edge model and prompt style."""
        if not str(path) or not path.is_file():
            raise InvalidConfig(f"estimator = learned needs its fitted rule ([edge.confidence] learned_path): {REFIT}")
        try:
            artifact = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidConfig(f"the learned rule {path} is unreadable ({exc}): {REFIT}") from exc
        if not isinstance(artifact, dict) or artifact.get("format") != ARTIFACT_FORMAT:
            raise InvalidConfig(f"{path} is not a learned estimator rule: {REFIT}")
        if artifact.get("version") != ARTIFACT_VERSION or artifact.get("features") != list(FEATURES):
            raise InvalidConfig(
                f"the learned rule {path} is stale (version {artifact.get('version')}, this Tandem reads "
                f"{ARTIFACT_VERSION}): {REFIT}"
            )
        for key, here in (("edge_model", edge_model), ("prompt_style", prompt_style)):
            if artifact.get(key) != here:
                raise InvalidConfig(
                    f"the learned rule {path} was fitted for {key} {artifact.get(key)!r}, this edge runs {here!r}: "
                    f"{REFIT}"
                )
        rule = LogisticDeferral()
        rule.mean, rule.scale = np.array(artifact["mean"]), np.array(artifact["scale"])
        rule.weights = np.array(artifact["weights"])
        if not (len(rule.mean) == len(rule.scale) == len(FEATURES) == len(rule.weights) - 1):
            raise InvalidConfig(
                f"the learned rule {path} has {len(rule.weights)} weights for {len(FEATURES)} features: {REFIT}"
            )
        return cls(rule, edge_model, prompt_style)
