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
    assert gain[0] > 0.7 and gain[1] < 0.3, "the cloud wins near (1, 0) only"
    conf = router.confidence(unit([1, 0.0], [0.0, 1]))
    assert conf[0] < 0.15 and conf[1] > 0.35


def test_each_side_is_estimated_separately_with_uncertainty():
    """'Edge better', 'neither' and 'cloud better' neighbourhoods, and evidence that narrows the posterior."""
    history = LabeledOutcomes(
        embeddings=unit(
            *(
                [[1, 0.01 * i, 0] for i in range(8)]
                + [[0, 1, 0.01 * i] for i in range(8)]
                + [[0.01 * i, 0, 1] for i in range(8)]
            )
        ),
        edge_correct=np.array([True] * 8 + [False] * 8 + [False] * 8),
        cloud_correct=np.array([False] * 8 + [False] * 8 + [True] * 8),
    )
    router = KnnRouter(history, k=8)
    est = router.estimate(unit([1, 0, 0], [0, 1, 0], [0, 0, 1]))
    assert est.p_edge[0] > 0.8 and est.p_cloud[0] < 0.2, "edge better"
    assert est.p_edge[1] < 0.2 and est.p_cloud[1] < 0.2 and abs(est.gain[1]) < 0.1, "neither answers"
    assert est.gain[2] > 0.6, "cloud better"
    assert (est.stay_local(1.0) <= est.stay_local() + 1e-9).all() and (est.stay_local(-1.0) >= est.stay_local()).all()
    few = KnnRouter(
        LabeledOutcomes(history.embeddings[16:18], history.edge_correct[16:18], history.cloud_correct[16:18])
    )
    assert few.estimate(unit([0, 0, 1])).gain_sd[0] > est.gain_sd[2], "two labels leave more doubt than eight"
    one_sided = KnnRouter(LabeledOutcomes(history.embeddings, history.edge_correct, np.full(24, np.nan)))
    assert one_sided.estimate(unit([0, 0, 1])).p_cloud[0] == pytest.approx(0.5), "no cloud label: an even prior"


def test_leave_one_out_ignores_own_label():
    flipped = LabeledOutcomes(HISTORY.embeddings, HISTORY.edge_correct.copy(), HISTORY.cloud_correct.copy())
    flipped.edge_correct[0] = True  # an outlier in the cloud-wins topic
    router = KnnRouter(flipped, k=2)
    alone = router.gain(flipped.embeddings, leave_one_out=True)[0]
    assert alone > router.gain(flipped.embeddings)[0] + 0.1, "without its own label the outlier looks like its topic"


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
