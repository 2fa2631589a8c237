"""The learned deferral rule on synthetic labels (pure logic): it finds the signal and ignores noise."""

from __future__ import annotations

import numpy as np

from edge.calibration.curves import roc_auc
from edge.calibration.deferral import LogisticDeferral


def test_logistic_deferral_learns_a_separating_feature():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)  # only feature 1 matters
    model = LogisticDeferral().fit(x[:200], y[:200])
    p = model.predict(x[200:])
    assert ((p >= 0) & (p <= 1)).all()
    assert roc_auc(p, y[200:].astype(bool)) > 0.9
    assert abs(model.weights[2]) > 3 * max(abs(model.weights[1]), abs(model.weights[3])), "weight on the signal"
