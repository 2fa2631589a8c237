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
    rows = reopened.all()
    assert reopened.count() == 2 and rows.embeddings.shape == (2, 2)
    assert rows.edge_correct.tolist() == [0.0, 0.0] and np.isnan(rows.cloud_correct[0]) and rows.cloud_correct[1] == 1
    assert rows.sources.tolist() == ["feedback", "calibration"]
    assert reopened.all(only_source="calibration").sources.tolist() == ["calibration"]
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


def test_a_teacher_label_is_learned_at_once_and_counts_less(tmp_path):
    """Agreement labels reach the router without a refresh and weigh `agreement_weight` of a calibration label."""
    store = OutcomeStore(tmp_path / "o.sqlite")
    store.replace_labeled([("a", vec(1, 0), True, True)], "calibration")
    full = KnnRoutePolicy(store, RoutingConfig(min_similarity=0.9, min_support=0.1, agreement_weight=1.0))
    half = KnnRoutePolicy(store, RoutingConfig(min_similarity=0.9, min_support=0.1, agreement_weight=0.2))
    before = full.advice_for(vec(1, 0)).confidence
    for policy in (full, half):
        for _ in range(3):
            policy.learn(vec(1, 0.01), edge_correct=False, source="agreement")
    assert full.labels == half.labels == 4 and store.count() == 1, "learned in memory; the sink writes the store"
    assert full.advice_for(vec(1, 0)).confidence < half.advice_for(vec(1, 0)).confidence < before
    store.close()


def test_a_sure_clouds_side_of_a_teacher_label_moves_the_gain_further(tmp_path):
    store = OutcomeStore(tmp_path / "o.sqlite")
    store.replace_labeled([("a", vec(0, 1), True, False)], "calibration")
    unknown, sure = (KnnRoutePolicy(store, RoutingConfig(min_support=0.1)) for _ in range(2))
    for _ in range(3):
        unknown.learn(vec(1, 0.01), edge_correct=False, source="audit")
        sure.learn(vec(1, 0.01), edge_correct=False, source="audit", cloud_correct=0.95)
    assert sure.advice_for(vec(1, 0)).confidence < unknown.advice_for(vec(1, 0)).confidence
    store.close()


def test_strong_labeled_evidence_moves_the_decision_with_the_default_gates(tmp_path):
    """A kind the edge never gets right, labeled by agreement only: the served plan goes from "draft and keep" to
    "the cloud before generating" once its labels outweigh the prior (default config)."""
    from edge.pipeline.decision import decide

    store = OutcomeStore(tmp_path / "o.sqlite")
    store.replace_labeled([(f"c{i}", vec(0.1 * i, 1), True, True) for i in range(10)], "calibration")
    policy, routing = KnnRoutePolicy(store, RoutingConfig()), RoutingConfig()
    question = vec(1, 0.05)
    before = decide(0.5, advice=policy.advice_for(question), routing=routing)
    assert before.route == "auto" and before.keeps_local(0.9), "nothing near: a confident draft is kept"
    for i in range(25):
        policy.learn(vec(1, 0.01 * i), edge_correct=False, source="agreement")
    after = decide(0.5, advice=policy.advice_for(question), routing=routing)
    assert after.route == "cloud" and "cloud before generation" in after.reasons[-1]
    store.close()
