"""Threshold calibration and cascade curves from labeled outcomes (pure computation, no model calls).

A cascade escalates every query whose confidence is below the threshold. Sorting queries by score turns
every threshold into a cloud share, so one pass gives the whole accuracy-versus-cloud-share curve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.pipeline.decision import escalation_score


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a random correct answer scores above a random wrong one (ties count half)."""
    pos, neg = scores[labels], scores[~labels]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


@dataclass(frozen=True)
class CurvePoint:
    threshold: float  # escalate when score < threshold
    cloud_share: float
    accuracy: float


def cascade_curve(scores: np.ndarray, edge_ok: np.ndarray, cloud_ok: np.ndarray) -> list[CurvePoint]:
    """One point per distinct threshold: escalating the k lowest-scored queries, k = 0..n."""
    order = np.argsort(scores, kind="stable")
    s, e, c = scores[order], edge_ok[order].astype(float), cloud_ok[order].astype(float)
    n = len(s)
    # accuracy with the first k escalated = (cloud correct among first k + edge correct among the rest) / n
    cloud_prefix = np.concatenate([[0.0], np.cumsum(c)])
    edge_suffix = np.concatenate([np.cumsum(e[::-1])[::-1], [0.0]])
    points = []
    for k in range(n + 1):
        if 0 < k < n and s[k] == s[k - 1]:
            continue  # a threshold cannot split tied scores
        threshold = float(s[k]) if k < n else float(np.nextafter(max(1.0, s[-1]), 2.0))
        points.append(CurvePoint(threshold, k / n, float((cloud_prefix[k] + edge_suffix[k]) / n)))
    return points


def accuracy_at_share(curve: list[CurvePoint], share: float) -> float:
    """Accuracy of the curve point closest to the wanted cloud share (interpolated between neighbours)."""
    shares = np.array([p.cloud_share for p in curve])
    accs = np.array([p.accuracy for p in curve])
    return float(np.interp(share, shares, accs))


def threshold_for_share(curve: list[CurvePoint], share: float) -> CurvePoint:
    """The point whose cloud share is closest to the target without exceeding it when possible."""
    eligible = [p for p in curve if p.cloud_share <= share + 1e-12] or curve[:1]
    return max(eligible, key=lambda p: p.cloud_share)


def threshold_for_accuracy(curve: list[CurvePoint], accuracy: float) -> CurvePoint | None:
    """The cheapest point (smallest cloud share) reaching the accuracy; None when no threshold does."""
    reaching = [p for p in curve if p.accuracy >= accuracy - 1e-12]
    return min(reaching, key=lambda p: p.cloud_share) if reaching else None


def evaluate_threshold(scores: np.ndarray, edge_ok: np.ndarray, cloud_ok: np.ndarray, threshold: float) -> CurvePoint:
    escalate = scores < threshold
    accuracy = float(np.where(escalate, cloud_ok, edge_ok).mean())
    return CurvePoint(threshold, float(escalate.mean()), accuracy)


def fit_weight(
    logprob_score: np.ndarray,
    router_confidence: np.ndarray,
    edge_correct: np.ndarray,
    cloud_correct: np.ndarray,
    share: float = 0.5,
) -> float:
    """The router mixing weight (grid of 0.1 steps) with the best cascade accuracy at `share` on labeled data."""
    grid = np.linspace(0.0, 1.0, 11)
    accuracy = [
        accuracy_at_share(
            cascade_curve(escalation_score(logprob_score, router_confidence, w), edge_correct, cloud_correct), share
        )
        for w in grid
    ]
    return float(grid[int(np.argmax(accuracy))])


def gap_recovered(curve: list[CurvePoint]) -> float | None:
    """RouteLLM's APGR: the mean over cloud shares 0..1 of (accuracy - edge-only) / (cloud-only - edge-only).

    Random escalation scores 0.5, an oracle approaches 1; None when the cloud is no better than the edge.
    """
    edge_acc, cloud_acc = curve[0].accuracy, curve[-1].accuracy
    if cloud_acc <= edge_acc:
        return None
    shares = np.array([p.cloud_share for p in curve])
    gap = (np.array([p.accuracy for p in curve]) - edge_acc) / (cloud_acc - edge_acc)
    return float(np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(shares)))


def share_to_reach(curve: list[CurvePoint], fraction: float) -> float | None:
    """The smallest cloud share whose accuracy is `fraction` of cloud-only accuracy (None: never)."""
    point = threshold_for_accuracy(curve, fraction * curve[-1].accuracy)
    return point.cloud_share if point else None


def random_share_to_reach(edge_acc: float, cloud_acc: float, fraction: float) -> float | None:
    """The same for random escalation, whose expected accuracy is linear in the share."""
    target = fraction * cloud_acc
    if target <= edge_acc:
        return 0.0
    return (target - edge_acc) / (cloud_acc - edge_acc) if cloud_acc > edge_acc else None


ROUTELLM_FRACTIONS = (0.5, 0.8, 0.95)


def routellm_metrics(curve: list[CurvePoint]) -> dict[str, object]:
    """Cloud share needed for 50/80/95 % of cloud-only accuracy (this policy and random) and the APGR."""
    edge_acc, cloud_acc = curve[0].accuracy, curve[-1].accuracy
    return {
        "share_to_reach": {f"{f:.2f}": share_to_reach(curve, f) for f in ROUTELLM_FRACTIONS},
        "random_share_to_reach": {
            f"{f:.2f}": random_share_to_reach(edge_acc, cloud_acc, f) for f in ROUTELLM_FRACTIONS
        },
        "gap_recovered": gap_recovered(curve),
    }
