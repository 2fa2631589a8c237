"""The served decision replayed on labeled questions: what `tandem-edge calibrate` and benchmarks choose from.

Each question gets the score the daemon would compare with the threshold: the estimator's score of the edge
answer, mixed with the router's advice, with the router's pre-generation routes at -inf (always escalated)
and +inf (never), all through `decide()` at a nominal device. Early escalation changes no decision (a draft
is stopped only when no continuation, the actual one included, could reach the threshold), so the replay of
whole answers is exact.
"""

from __future__ import annotations

import numpy as np

from edge.calibration.outcomes import Outcome
from edge.pipeline.decision import decide
from edge.pipeline.protocols import RouterAdvice
from edge.routing.knn import LabeledOutcomes
from edge.routing.policy import advise_many, build_router
from shared.config import RoutingConfig


def replay_advice(
    fitted_on: list[Outcome],
    fitted_embeddings: np.ndarray,
    asked: np.ndarray,
    routing: RoutingConfig,
    leave_one_out: bool,
) -> list[RouterAdvice]:
    """The router's advice for `asked`, fitted on labeled outcomes; leave-one-out when `asked` is that set."""
    history = LabeledOutcomes(
        fitted_embeddings,
        np.array([o.edge_correct for o in fitted_on]),
        np.array([o.cloud_correct for o in fitted_on]),
    )
    return advise_many(build_router(history, routing), asked, routing, leave_one_out)


def served_scores(
    outcomes: list[Outcome], estimator: str, advice: list[RouterAdvice] | None, routing: RoutingConfig | None
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
