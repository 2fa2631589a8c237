"""Outcome store persistence and the route policy's advice (real SQLite, fixed vectors)."""

from __future__ import annotations

import numpy as np

from edge.core.protocols import RouterAdvice
from edge.routing.outcome_store import OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from shared.config import RoutingConfig


def vec(x: float, y: float) -> np.ndarray:
    v = np.array([x, y], dtype=np.float32)
    return v / np.linalg.norm(v)


def test_outcome_store_survives_restart(tmp_path):
    store = OutcomeStore(tmp_path / "o.sqlite")
    store.add(question="q1", embedding=vec(1, 0), edge_correct=False, cloud_correct=None, source="feedback")
    store.replace_labeled([("q2", vec(0, 1), True, True)], "calibration")
    store.replace_labeled([("q2", vec(0, 1), False, True)], "calibration")  # relabeled, not duplicated
    store.remember_served(response_id="r1", question="q1", served_by="edge", embedding=None)
    store.close()
    reopened = OutcomeStore(tmp_path / "o.sqlite")
    embeddings, edge_ok, cloud_ok = reopened.all()
    assert reopened.count() == 2 and embeddings.shape == (2, 2)
    assert edge_ok.tolist() == [0.0, 0.0] and np.isnan(cloud_ok[0]) and cloud_ok[1] == 1.0
    assert reopened.served("r1").served_by == "edge" and reopened.served("nope") is None
    reopened.close()


def test_advice_comes_from_close_neighbours_only(tmp_path):
    store = OutcomeStore(tmp_path / "o.sqlite")
    policy = KnnRoutePolicy(store, RoutingConfig(min_similarity=0.9))
    assert policy.advice_for(vec(1, 0)) == RouterAdvice(None), "no history: the router abstains"
    store.replace_labeled([("a", vec(1, 0), False, True), ("b", vec(0, 1), True, False)], "calibration")
    policy.refresh()
    cloud_wins = policy.advice_for(vec(1, 0.01))  # its neighbour: the edge fails, the cloud succeeds
    assert cloud_wins.confidence < 0.4 and cloud_wins.low <= cloud_wins.confidence <= cloud_wins.high
    assert policy.advice_for(vec(0.01, 1)).confidence > 0.6  # its neighbour: the cloud adds nothing
    assert policy.advice_for(vec(1, 1)).confidence is None, "nothing labeled is close enough"
    store.close()
