"""Policy variants replayed on both splits, and the one to serve: best gain over random escalation on held-out.

A variant is an estimator with the router on or off; each gets its threshold from the calibration split and is
evaluated on the held-out one exactly as the daemon applies it. An estimator that ranks the calibration split
worse than chance (AUROC < 0.5) is reported but never chosen: it is not a signal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from edge.calibration.curves import evaluate_threshold, roc_auc, threshold_for_accuracy, threshold_for_share
from edge.calibration.guard import Baselines, objection
from edge.calibration.outcomes import Outcome, outcome_arrays
from edge.calibration.risk import losses_kept, risk_bounded_threshold
from edge.calibration.served import served_curve, served_scores, usable_threshold
from edge.core.protocols import ConfidenceEstimator, RouterAdvice
from shared.config import RoutingConfig


@dataclass(frozen=True)
class Target:
    key: str  # "cloud_share", "accuracy" or "max_accuracy_loss"
    value: float
    confidence: float = 0.9  # of the one-sided bound, for max_accuracy_loss


@dataclass(frozen=True)
class Replay:
    """Both splits with the router's advice for each (None: no router)."""

    calibration: list[Outcome]
    held_out: list[Outcome]
    cal_advice: list[RouterAdvice] | None
    held_advice: list[RouterAdvice] | None
    routing: RoutingConfig | None


def _threshold(cal: tuple[np.ndarray, np.ndarray, np.ndarray], target: Target, row: dict[str, Any]) -> float:
    if target.key == "max_accuracy_loss":
        bounded = risk_bounded_threshold(*cal, target.value, target.confidence)
        row["risk"] = asdict(bounded)
        return usable_threshold(bounded.threshold)
    curve = served_curve(*cal)
    if target.key == "cloud_share":
        return threshold_for_share(curve, target.value).threshold
    return (threshold_for_accuracy(curve, target.value) or curve[-1]).threshold


def variant_scores(
    outcomes: list[Outcome],
    advice: list[RouterAdvice] | None,
    estimator: ConfidenceEstimator,
    router: bool,
    replay: Replay,
) -> np.ndarray:
    """The served scores of one split (`advice`: the router's for it) under one variant."""
    on = router and replay.routing is not None
    return served_scores(outcomes, estimator, advice if on else None, replay.routing if on else None)


def held_out_scores(estimator: ConfidenceEstimator, router: bool, replay: Replay) -> np.ndarray:
    return variant_scores(replay.held_out, replay.held_advice, estimator, router, replay)


def evaluate(name: str, estimator: ConfidenceEstimator, router: bool, replay: Replay, target: Target) -> dict:
    """One variant: its threshold from the calibration split, both splits evaluated at it."""
    on = router and replay.routing is not None
    raw_cal = outcome_arrays(replay.calibration, estimator)
    held_arrays = outcome_arrays(replay.held_out, estimator)
    cal = variant_scores(replay.calibration, replay.cal_advice, estimator, router, replay), *raw_cal[1:]
    ev = held_out_scores(estimator, router, replay), *held_arrays[1:]
    row: dict[str, Any] = {"estimator": name, "router": on, "auroc": roc_auc(raw_cal[0], raw_cal[1])}
    row["served_auroc"] = roc_auc(np.clip(cal[0], -1.0, 2.0), cal[1])
    threshold = _threshold(cal, target, row)
    if "risk" in row:
        row["risk"]["held_out_loss"] = float(np.mean(losses_kept(*ev, threshold)))
    held = evaluate_threshold(*ev, threshold)
    base = Baselines.of(ev[1], ev[2])
    row |= {
        "threshold": threshold,
        "calibration": asdict(evaluate_threshold(*cal, threshold)),
        "held_out": asdict(held),
        "gain_over_random": base.gain_over_random(held),
        "objection": objection(held, base),
        "signal": not row["auroc"] < 0.5,  # NaN (one class only) is no evidence against it
    }
    return row


SHARE_TOLERANCE = 0.05  # a cloud-share target is met on held-out when within this


def choose(rows: list[dict], target: Target) -> dict:
    """The variant to serve: among those whose estimator is a signal (every variant when none is) and, for a
    cloud-share target, whose held-out share is within SHARE_TOLERANCE of it (when any is), the best held-out gain
    over random escalation at its own share; ties: fewer cloud calls."""
    candidates = [r for r in rows if r["signal"]] or rows
    if target.key == "cloud_share":
        near = [r for r in candidates if abs(r["held_out"]["cloud_share"] - target.value) <= SHARE_TOLERANCE]
        candidates = near or candidates
    return max(candidates, key=lambda r: (r["gain_over_random"], -r["held_out"]["cloud_share"]))


def shares_without_objection(estimator: ConfidenceEstimator, chosen: dict, replay: Replay) -> list[float]:
    """The cloud shares (tenths) at which the chosen variant, calibrated for that share, beats the simple choices
    on held-out: what to ask for instead when the asked share does not."""
    found = []
    for share in np.round(np.arange(0.1, 1.0, 0.1), 1):
        row = evaluate(chosen["estimator"], estimator, chosen["router"], replay, Target("cloud_share", float(share)))
        if row["objection"] is None:
            found.append(float(share))
    return found
