"""Never worse than the simple choices: the served policy against edge-only, cloud-only and random escalation.

Random escalation at share s scores (1 - s) * edge_only + s * cloud_only on average, so a policy at that share
is worth its cloud calls only above that line, and, where the edge beats the cloud, only above the edge alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.calibration.curves import CurvePoint


@dataclass(frozen=True)
class Baselines:
    edge_only: float
    cloud_only: float

    @classmethod
    def of(cls, edge_ok: np.ndarray, cloud_ok: np.ndarray) -> Baselines:
        return cls(float(np.mean(edge_ok)), float(np.mean(cloud_ok)))

    def random_at(self, share: float) -> float:
        return (1.0 - share) * self.edge_only + share * self.cloud_only

    def gain_over_random(self, point: CurvePoint) -> float:
        return point.accuracy - self.random_at(point.cloud_share)

    @property
    def better_side(self) -> str:
        """The side that answers better alone; the edge on a tie (no cloud calls)."""
        return "edge" if self.edge_only >= self.cloud_only else "cloud"

    def gap_recovered(self, point: CurvePoint, oracle: float) -> float | None:
        """(policy - random) / (oracle - random) at the policy's share; None when the oracle is no better."""
        random = self.random_at(point.cloud_share)
        return (point.accuracy - random) / (oracle - random) if oracle > random else None


def objection(point: CurvePoint, base: Baselines) -> str | None:
    """Why a policy that scored `point` on held-out questions is not worth serving, or None."""
    if base.edge_only >= base.cloud_only and point.accuracy < base.edge_only:
        return f"below the edge alone ({point.accuracy:.3f} < {base.edge_only:.3f}), which beats the cloud here"
    if 0.0 < point.cloud_share < 1.0 and point.accuracy <= base.random_at(point.cloud_share):
        return (
            f"no better than escalating at random at the same share {point.cloud_share:.2f} "
            f"({point.accuracy:.3f} <= {base.random_at(point.cloud_share):.3f})"
        )
    return None


def oracle_at(edge_ok: np.ndarray, cloud_ok: np.ndarray, share: float) -> float:
    """The best accuracy any policy escalating `share` of these questions could reach: the questions the edge gets
    wrong and the cloud right go first."""
    n = len(edge_ok)
    helped = int(np.sum(~edge_ok.astype(bool) & cloud_ok.astype(bool)))
    return float((np.sum(edge_ok) + min(helped, round(share * n))) / n)
