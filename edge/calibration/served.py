"""The served decision replayed on labeled questions: what `tandem-edge calibrate` and benchmarks choose from.

Each question gets the score the daemon would compare with the threshold: the estimator's score of the edge
answer, mixed with the router's advice, with the router's pre-generation routes at -inf (always escalated)
and +inf (never), all through `decide()` at a nominal device. Early escalation changes no decision (a draft
is stopped only when no continuation, the actual one included, could reach the threshold), so the replay of
whole answers is exact.
"""

from __future__ import annotations

import numpy as np

from edge.calibration.curves import CurvePoint, cascade_curve, evaluate_threshold
from edge.calibration.outcomes import Outcome
from edge.core.protocols import CALIBRATION, ConfidenceEstimator, RouterAdvice
from edge.pipeline.decision import decide
from edge.routing.outcome_store import OutcomeRows
from edge.routing.policy import KnnRoutePolicy
from shared.config import RoutingConfig


def replay_advice(
    fitted_on: list[Outcome],
    fitted_embeddings: np.ndarray,
    asked: np.ndarray,
    routing: RoutingConfig,
    leave_one_out: bool,
) -> list[RouterAdvice]:
    """The served router's advice for `asked`, fitted on labeled outcomes; leave-one-out when `asked` is that set.

    The daemon's own `KnnRoutePolicy`, over these rows instead of its SQLite store: one computation for both.
    """
    return KnnRoutePolicy(calibration_rows(fitted_on, fitted_embeddings), routing).advice_rows(asked, leave_one_out)


def calibration_rows(outcomes: list[Outcome], embeddings: np.ndarray) -> OutcomeRows:
    """Labeled outcomes as the rows calibrate stores for the router (both sides labeled)."""
    return OutcomeRows(
        embeddings,
        np.array([o.edge_correct for o in outcomes], float),
        np.array([o.cloud_correct for o in outcomes], float),
        np.full(len(outcomes), CALIBRATION),
    )


def served_scores(
    outcomes: list[Outcome],
    estimator: ConfidenceEstimator,
    advice: list[RouterAdvice] | None,
    routing: RoutingConfig | None,
) -> np.ndarray:
    """Per question, the score the served decision escalates below (advice None: the router is off)."""
    scores = []
    for i, outcome in enumerate(outcomes):
        plan = decide(0.5, advice=advice[i] if advice else None, routing=routing)
        scores.append(plan.ranking_score(outcome.score(estimator)))
    return np.array(scores)


def usable_threshold(threshold: float) -> float:
    """A curve threshold as a config value: scores outside [0, 1] are only the +/-inf of pre-generation routes."""
    return float(min(1.0, max(0.0, threshold)))


def served_curve(scores: np.ndarray, edge_ok: np.ndarray, cloud_ok: np.ndarray) -> list[CurvePoint]:
    """The cascade curve as a config can realize it: each point at its usable threshold, re-evaluated.

    A curve threshold of -inf ("escalate nothing") cannot be configured while the router sends some questions
    straight to the cloud: at the usable 0.0 those still escalate, and the point says so.
    """
    curve = cascade_curve(scores, edge_ok, cloud_ok)
    return [evaluate_threshold(scores, edge_ok, cloud_ok, usable_threshold(p.threshold)) for p in curve]
