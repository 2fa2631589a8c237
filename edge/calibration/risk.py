"""Risk-bounded thresholds: the cheapest cloud share whose accuracy loss against cloud-only is bounded.

On the calibration split, each threshold keeps some questions local. A kept question *loses* against
cloud-only when the cloud would have been right and the edge is wrong. The loss rate's one-sided upper
Clopper–Pearson bound at level C must stay within E; the chosen threshold is the one with the lowest cloud
share among those whose bound holds. Counting losses alone (gains where the edge beats the cloud are not
netted out) keeps the bound conservative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.calibration.curves import cascade_curve
from shared.binomial import clopper_pearson_upper


def losses_kept(scores: np.ndarray, edge_ok: np.ndarray, cloud_ok: np.ndarray, threshold: float) -> np.ndarray:
    """Per question: kept local (score >= threshold) although the cloud was right and the edge wrong."""
    return (scores >= threshold) & cloud_ok & ~edge_ok


@dataclass(frozen=True)
class RiskBoundedPoint:
    threshold: float
    cloud_share: float
    accuracy: float
    losses: int  # kept local where the cloud was right and the edge wrong
    questions: int
    loss_upper_bound: float
    held: bool  # False: no threshold meets the bound; everything escalates


def risk_bounded_threshold(
    scores: np.ndarray, edge_ok: np.ndarray, cloud_ok: np.ndarray, max_loss: float, confidence: float
) -> RiskBoundedPoint:
    """Escalate when score < threshold; the lowest-share threshold whose loss bound is within `max_loss`."""
    n = len(scores)
    losing = (cloud_ok & ~edge_ok).astype(int)
    order = np.argsort(scores, kind="stable")
    # With the k lowest-scored escalated, the losses are the losing questions among the rest.
    kept_losses = np.concatenate([np.cumsum(losing[order][::-1])[::-1], [0]])
    best = None
    for point in cascade_curve(scores, edge_ok, cloud_ok):
        k = round(point.cloud_share * n)
        bound = clopper_pearson_upper(int(kept_losses[k]), n, confidence)
        if bound <= max_loss and (best is None or point.cloud_share < best.cloud_share):
            best = RiskBoundedPoint(
                point.threshold, point.cloud_share, point.accuracy, int(kept_losses[k]), n, bound, True
            )
    if best is None:
        last = cascade_curve(scores, edge_ok, cloud_ok)[-1]
        return RiskBoundedPoint(
            last.threshold, 1.0, last.accuracy, 0, n, clopper_pearson_upper(0, n, confidence), False
        )
    return best
