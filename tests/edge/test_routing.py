"""Outcome store persistence and the router gate's decisions (real SQLite, fixed vectors)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.outcome_store import OutcomeStore
from edge.routing import RouteDecision, RouterGate
from shared.config import EdgeConfig


def vec(x: float, y: float) -> np.ndarray:
    v = np.array([x, y], dtype=np.float32)
    return v / np.linalg.norm(v)


def test_outcome_store_survives_restart(tmp_path):
    store = OutcomeStore(tmp_path / "o.sqlite")
    store.add("q1", vec(1, 0), False, None, "feedback")
    store.replace_labeled([("q2", vec(0, 1), True, True)], "calibration")
    store.replace_labeled([("q2", vec(0, 1), False, True)], "calibration")  # relabeled, not duplicated
    store.remember_served("r1", "q1", "edge", None)
    store.close()
    reopened = OutcomeStore(tmp_path / "o.sqlite")
    embeddings, edge_ok, cloud_ok = reopened.all()
    assert reopened.count() == 2 and embeddings.shape == (2, 2)
    assert edge_ok.tolist() == [0.0, 0.0] and np.isnan(cloud_ok[0]) and cloud_ok[1] == 1.0
    assert reopened.served("r1").served_by == "edge" and reopened.served("nope") is None
    reopened.close()


def test_gate_decides_from_close_neighbours_only(tmp_path):
    store = OutcomeStore(tmp_path / "o.sqlite")
    config = EdgeConfig(router_min_similarity=0.9)
    gate = RouterGate(store, config)
    assert gate.decide(vec(1, 0)) == RouteDecision(None, "auto"), "no history: the router abstains"
    store.replace_labeled([("a", vec(1, 0), False, True), ("b", vec(0, 1), True, False)], "calibration")
    gate.refresh()
    assert gate.decide(vec(1, 0.01)).route == "cloud"  # neighbours: the edge fails, the cloud succeeds
    assert gate.decide(vec(0.01, 1)).route == "edge"  # neighbours: the cloud adds nothing
    assert gate.decide(vec(1, 1)).confidence is None, "nothing labeled is close enough"
    store.close()


def test_threshold_mixing():
    d = RouteDecision(0.8, "auto")
    # 0.5 * lp + 0.5 * 0.8 >= 0.6  <=>  lp >= 0.4
    assert d.threshold_for_logprob(0.6, 0.5) == pytest.approx(0.4)
    assert RouteDecision(None, "auto").threshold_for_logprob(0.6, 0.5) == 0.6
    assert d.threshold_for_logprob(0.6, 0.0) == 0.0 and RouteDecision(0.1, "auto").threshold_for_logprob(0.6, 0.0) > 1
