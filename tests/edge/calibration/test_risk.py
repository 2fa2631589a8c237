"""Risk-bounded thresholds: the Clopper-Pearson arithmetic on known cases, and the choice it drives."""

from __future__ import annotations

import numpy as np
import pytest

from edge.calibration.risk import clopper_pearson_upper, losses_kept, risk_bounded_threshold


def test_clopper_pearson_known_cases():
    # No event in n trials: the bound solves (1 - u)^n = 1 - C, i.e. u = 1 - (1 - C)^(1/n).
    for n, c in ((50, 0.9), (300, 0.95), (1000, 0.9)):
        assert clopper_pearson_upper(0, n, c) == pytest.approx(1 - (1 - c) ** (1 / n), rel=1e-9)
    assert clopper_pearson_upper(0, 115, 0.9) < 0.02 < clopper_pearson_upper(0, 113, 0.9)
    assert clopper_pearson_upper(3, 100, 0.9) == pytest.approx(0.06559, abs=1e-4)  # tables: Beta(4, 97) 0.9 quantile
    assert clopper_pearson_upper(10, 10, 0.9) == 1.0
    bounds = [clopper_pearson_upper(k, 200, 0.9) for k in range(10)]
    assert bounds == sorted(bounds) and all(b > k / 200 for k, b in enumerate(bounds))


def test_the_cheapest_threshold_whose_loss_bound_holds():
    n = 400
    scores = np.linspace(0.0, 1.0, n)
    cloud_ok = np.ones(n, bool)
    edge_ok = scores > 0.3  # the edge is wrong exactly on the lowest 30 %
    point = risk_bounded_threshold(scores, edge_ok, cloud_ok, max_loss=0.02, confidence=0.9)
    assert point.held and point.losses == 4 and point.loss_upper_bound <= 0.02  # 5 would exceed it
    assert 0.28 <= point.cloud_share <= 0.31, "escalate the wrong ones, not more"
    assert losses_kept(scores, edge_ok, cloud_ok, point.threshold).sum() == point.losses
    impossible = risk_bounded_threshold(scores[:50], edge_ok[:50], cloud_ok[:50], max_loss=0.01, confidence=0.9)
    assert not impossible.held and impossible.cloud_share == 1.0, "50 questions cannot show a 1 % bound"
