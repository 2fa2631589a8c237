"""Estimators on fixed log-prob sequences (pure logic)."""

from __future__ import annotations

import math

import pytest

from edge.confidence.estimators import ESTIMATORS, create_estimator
from shared.llama_runtime import StepToken


def steps(logprobs, margins=None, entropies=None) -> list[StepToken]:
    margins = margins or [0.5] * len(logprobs)
    entropies = entropies or [1.0] * len(logprobs)
    return [
        StepToken(i, "t", "t", lp, (), h, m)
        for i, (lp, m, h) in enumerate(zip(logprobs, margins, entropies, strict=True))
    ]


def test_values_on_fixed_sequence():
    s = steps([-0.1, -0.2, -3.0], margins=[0.9, 0.8, 0.1], entropies=[0.1, 0.2, 2.0])
    assert create_estimator("mean_logprob").score(s) == pytest.approx(math.exp(-3.3 / 3))
    assert create_estimator("min_logprob").score(s) == pytest.approx(math.exp(-3.0))
    assert create_estimator("margin").score(s) == pytest.approx(0.6)
    assert create_estimator("entropy").score(s) == pytest.approx(math.exp(-2.3 / 3))
    probs = sorted(math.exp(x) for x in (-0.1, -0.2, -3.0))
    assert create_estimator("quantile", 0.5).score(s) == pytest.approx(probs[1])


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_scores_in_unit_interval_and_ordered(name):
    est = create_estimator(name)
    confident = steps([-0.01, -0.02], margins=[0.99, 0.98], entropies=[0.05, 0.05])
    doubtful = steps([-2.5, -1.5], margins=[0.05, 0.1], entropies=[3.0, 2.5])
    hi, lo = est.score(confident), est.score(doubtful)
    assert 0.0 <= lo < hi <= 1.0
    assert est.score([]) == 0.0


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_upper_bound_never_below_any_final_score(name):
    """Early escalation is safe: no continuation can beat the bound."""
    est = create_estimator(name)
    prefix = steps([-0.3, -1.2], margins=[0.4, 0.2], entropies=[1.0, 1.5])
    bound = est.upper_bound(prefix, max_tokens=6)
    for extra in ([], [-0.0], [-0.0, -0.0, -0.0, -0.0], [-0.5, -0.1]):
        full = steps(
            [-0.3, -1.2, *extra], margins=[0.4, 0.2] + [1.0] * len(extra), entropies=[1.0, 1.5] + [0.0] * len(extra)
        )
        assert est.score(full) <= bound + 1e-12


def test_min_bound_drops_after_one_unlikely_token():
    est = create_estimator("min_logprob")
    assert est.upper_bound(steps([-0.01]), 32) > 0.9
    assert est.upper_bound(steps([-0.01, -4.0]), 32) < 0.02


def test_unknown_estimator():
    with pytest.raises(ValueError, match="unknown estimator"):
        create_estimator("vibes")
