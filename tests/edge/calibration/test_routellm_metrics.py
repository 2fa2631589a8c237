"""RouteLLM's metrics over cascade curves (pure computation): random is 0.5 APGR, a perfect ranking more."""

from __future__ import annotations

import numpy as np
import pytest

from edge.calibration.curves import (
    CurvePoint,
    cascade_curve,
    gap_recovered,
    random_share_to_reach,
    routellm_metrics,
    share_to_reach,
)

# 10 questions: the edge right on 3, the cloud right on 8; the cloud gains on 6 (ids 3..8), loses on 1 (id 0).
EDGE = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
CLOUD = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1, 0], dtype=bool)


GAIN = CLOUD.astype(float) - EDGE.astype(float)
TIE_BREAK = 0.01 * np.arange(10)  # distinct scores: every share is a threshold


def test_a_ranking_that_escalates_the_gains_first_recovers_most_of_the_gap():
    oracle = cascade_curve(-10 * GAIN + TIE_BREAK, EDGE, CLOUD)
    backwards = cascade_curve(10 * GAIN + TIE_BREAK, EDGE, CLOUD)
    assert oracle[0].accuracy == pytest.approx(0.3) and oracle[-1].accuracy == pytest.approx(0.8)
    assert gap_recovered(oracle) == pytest.approx(0.83)  # it passes cloud-only on the way (gap 1.2)
    assert gap_recovered(backwards) == pytest.approx(0.17)


def test_a_curve_linear_in_the_share_is_random_escalation():
    linear = [CurvePoint(0.0, s, 0.3 + 0.5 * s) for s in np.linspace(0, 1, 11)]
    assert gap_recovered(linear) == pytest.approx(0.5)
    assert gap_recovered([CurvePoint(0, 0, 0.5), CurvePoint(1, 1, 0.4)]) is None, "no gap to recover"


def test_share_to_reach_and_its_random_baseline():
    oracle = cascade_curve(-10 * GAIN + TIE_BREAK, EDGE, CLOUD)
    # 95 % of 0.8 is 0.76: the oracle gets there after escalating 5 of the 6 gains, i.e. share 0.5.
    assert share_to_reach(oracle, 0.95) == pytest.approx(0.5)
    assert random_share_to_reach(0.3, 0.8, 0.95) == pytest.approx((0.76 - 0.3) / 0.5)
    assert random_share_to_reach(0.3, 0.8, 0.25) == 0.0, "the edge alone already reaches it"
    metrics = routellm_metrics(oracle)
    assert set(metrics["share_to_reach"]) == {"0.50", "0.80", "0.95"}
    assert metrics["share_to_reach"]["0.50"] == pytest.approx(0.1), "half of 0.8 takes one gain over the edge's 0.3"
    assert metrics["random_share_to_reach"]["0.50"] == pytest.approx(0.2)
