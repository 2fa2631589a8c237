"""The kNN router on fixed embeddings and outcomes (pure logic)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.calibration.curves import fit_weight
from edge.pipeline.decision import escalation_score
from edge.routing.knn import KnnRouter, LabeledOutcomes


def unit(*rows) -> np.ndarray:
    a = np.array(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


# Two topics: near (1, 0) the cloud is right and the edge wrong; near (0, 1) both are right.
HISTORY = LabeledOutcomes(
    embeddings=unit([1, 0.05], [1, -0.05], [1, 0.1], [0.05, 1], [-0.05, 1], [0.1, 1]),
    edge_correct=np.array([False, False, False, True, True, True]),
    cloud_correct=np.array([True, True, True, True, True, True]),
)


def test_neighbours_decide_the_gain():
    router = KnnRouter(HISTORY, k=3)
    gain = router.gain(unit([1, 0.0], [0.0, 1]))
    assert gain[0] == pytest.approx(1.0) and gain[1] == pytest.approx(0.0, abs=1e-6)
    conf = router.confidence(unit([1, 0.0], [0.0, 1]))
    assert conf[0] == pytest.approx(0.0, abs=1e-6) and conf[1] == pytest.approx(0.5, abs=1e-6)


def test_leave_one_out_ignores_own_label():
    flipped = LabeledOutcomes(HISTORY.embeddings, HISTORY.edge_correct.copy(), HISTORY.cloud_correct.copy())
    flipped.edge_correct[0] = True  # an outlier in the cloud-wins topic
    router = KnnRouter(flipped, k=2)
    assert router.gain(flipped.embeddings, leave_one_out=True)[0] == pytest.approx(1.0)
    assert router.gain(flipped.embeddings)[0] < 1.0


def test_combine_and_fit_weight():
    logprob = np.array([0.9, 0.8, 0.1, 0.2])
    router = np.array([0.1, 0.2, 0.9, 0.8])
    assert escalation_score(logprob, router, 1.0) == pytest.approx(logprob)
    assert escalation_score(logprob, router, 0.0) == pytest.approx(router)
    # the router ranks the edge's wrong answers lowest here, so the fit leans on it
    edge_ok = np.array([False, False, True, True])
    cloud_ok = np.array([True, True, True, True])
    assert fit_weight(logprob, router, edge_ok, cloud_ok) <= 0.5
    with pytest.raises(ValueError):
        KnnRouter(LabeledOutcomes(np.zeros((0, 2)), np.array([], bool), np.array([], bool)))
