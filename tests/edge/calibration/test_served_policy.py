"""Calibrate's replay and the daemon's route policy are one computation (property test, real SQLite store).

For generated routing configs and labeled rows, the router the daemon builds from its outcome store and the
replay `tandem-edge calibrate` and the benchmarks run give the same advice for every query, and `decide()`
the same plan; the replayed ranking score escalates exactly the queries the served plan escalates.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.calibration.labeled import LabeledItem
from edge.calibration.outcomes import CloudRun, EdgeRun, Outcome
from edge.calibration.served import replay_advice, served_scores
from edge.confidence.estimators import create_estimator
from edge.pipeline.decision import decide
from edge.routing.outcome_store import OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from shared.config import RoutingConfig

DIM = 6
unit = st.floats(0.0, 1.0)
routing_configs = st.builds(
    RoutingConfig,
    k=st.integers(1, 12),
    min_similarity=unit,
    weight=unit,
    cloud_below=unit,
    local_above=unit,
    min_support=st.floats(0.0, 3.0),
    prior_strength=st.floats(0.05, 8.0),
    credible_z=st.floats(0.0, 2.0),
)


@st.composite
def vectors(draw, n: int) -> np.ndarray:
    """Unit float32 rows as the embedder produces, clustered so that neighbours are close."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(3, DIM))
    rows = centers[rng.integers(0, 3, n)] + rng.normal(scale=draw(st.floats(0.01, 1.0)), size=(n, DIM))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _outcome(i: int, edge_ok: bool, cloud_ok: bool, logprob: float = -1.0) -> Outcome:
    item = LabeledItem(f"q{i}", f"question {i}", ("yes",))
    edge = EdgeRun("yes" if edge_ok else "no", [logprob], [0.5], [0.1], 0.01, 4)
    return Outcome(item, edge, CloudRun("yes" if cloud_ok else "no", 4, 1, 10.0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    config=routing_configs,
    data=st.data(),
    n=st.integers(1, 25),
    m=st.integers(1, 6),
)
def test_daemon_router_and_calibrate_replay_agree(config: RoutingConfig, data, n: int, m: int):
    labeled = data.draw(vectors(n))
    asked = data.draw(vectors(m))
    edge_ok = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    cloud_ok = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    logprobs = data.draw(st.lists(st.floats(-6.0, 0.0), min_size=m, max_size=m))
    outcomes = [_outcome(i, e, c) for i, (e, c) in enumerate(zip(edge_ok, cloud_ok, strict=True))]

    with tempfile.TemporaryDirectory() as tmp:
        store = OutcomeStore(Path(tmp) / "outcomes.sqlite")
        try:
            rows = [
                (o.item.question, v, o.edge_correct, o.cloud_correct) for o, v in zip(outcomes, labeled, strict=True)
            ]
            store.replace_labeled(rows, "calibration")
            served = [KnnRoutePolicy(store, config).advice_for(q) for q in asked]
        finally:
            store.close()
    replayed = replay_advice(outcomes, labeled, asked, config, leave_one_out=False)
    for a, b in zip(served, replayed, strict=True):
        assert a == b, (a, b)

    estimator = create_estimator("mean_logprob")
    queries = [_outcome(100 + j, True, True, lp) for j, lp in enumerate(logprobs)]
    ranking = served_scores(queries, estimator, replayed, config)
    threshold = data.draw(unit)
    for j, query in enumerate(queries):
        plan = decide(threshold, advice=served[j], routing=config)
        assert plan == decide(threshold, advice=replayed[j], routing=config)
        score = query.score(estimator)
        assert plan.keeps_local(score) == (ranking[j] >= threshold)
