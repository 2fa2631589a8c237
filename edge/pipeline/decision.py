"""The one escalation decision: every effect on the threshold composed in one pure function, with reasons.

Effects, in order: the configured threshold (or the request's own), the device shift (battery, heat, load
from other processes), the cloud-share controller's offset (`edge.pipeline.share`), the router (labeled
neighbours: straight to the cloud, stay local, or a stay-local score mixed with the log-prob score; its gates move
with the device shift and the offset), and early escalation (stop generating once the threshold is out of
reach). The daemon, `tandem-edge calibrate` and the benchmarks all use this module; nothing re-implements it.

With router confidence r and log-prob weight w, the edge keeps its answer when
w * logprob_score + (1 - w) * r >= threshold (r unknown: logprob_score >= threshold).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from edge.core.protocols import RouterAdvice
from edge.core.query import Route
from shared.config import RoutingConfig


@dataclass(frozen=True)
class DeviceShift:
    """How device state moves the threshold (positive: escalate more eagerly)."""

    shift: float = 0.0
    reasons: tuple[str, ...] = ()


NOMINAL_DEVICE = DeviceShift()


def effective_threshold(configured: float, device: DeviceShift = NOMINAL_DEVICE, share_offset: float = 0.0) -> float:
    """The configured threshold moved by the device and the cloud-share controller, kept within [0, 1]."""
    return min(1.0, max(0.0, configured + device.shift + share_offset))


Score = TypeVar("Score", float, np.ndarray)  # one question, or a column of them (threshold sweeps)


def escalation_score(logprob_score: Score, router_confidence: Score | None, weight: float) -> Score:
    """The score compared with the threshold: the log-prob score mixed with the router's stay-local score."""
    if router_confidence is None:
        return logprob_score
    return weight * logprob_score + (1.0 - weight) * router_confidence


@dataclass(frozen=True)
class Plan:
    route: Route  # "cloud": escalate before generating; "edge": answer locally whatever the score; "auto"
    threshold: float  # effective, after the device shift
    router_confidence: float | None
    weight: float
    early_escalation: bool
    reasons: tuple[str, ...]

    def score(self, logprob_score: float) -> float:
        return escalation_score(logprob_score, self.router_confidence, self.weight)

    def keeps_local(self, logprob_score: float) -> bool:
        if self.route != "auto":
            return self.route == "edge"
        return self.score(logprob_score) >= self.threshold

    def policy_keeps(self, logprob_score: float, kept: bool) -> bool:
        """What the namespace's policy decided (`kept`: what was served; they differ under the online guard)."""
        return kept

    def stops_early(self, best_reachable_logprob_score: float) -> bool:
        """True once even the best continuation of the answer would be escalated."""
        return self.early_escalation and self.route == "auto" and not self.keeps_local(best_reachable_logprob_score)

    def ranking_score(self, logprob_score: float) -> float:
        """Escalated exactly when below the threshold, pre-generation routes included: for threshold sweeps."""
        if self.route == "cloud":
            return -math.inf
        if self.route == "edge":
            return math.inf
        return self.score(logprob_score)

    def verdict(self, logprob_score: float, stopped_early: bool) -> tuple[bool, str]:
        """(keep the edge answer, why)."""
        if self.route == "edge":
            return True, "kept local: route edge"
        score = self.score(logprob_score)
        if stopped_early:
            return False, f"early escalation: score could not reach {self.threshold:.3f}"
        if score >= self.threshold:
            return True, f"kept local: score {score:.3f} >= {self.threshold:.3f}"
        return False, f"escalated: score {score:.3f} < {self.threshold:.3f}"


def decide(
    configured_threshold: float,
    *,
    route: Route = "auto",
    request_threshold: float | None = None,
    device: DeviceShift = NOMINAL_DEVICE,
    share_offset: float = 0.0,
    advice: RouterAdvice | None = None,
    routing: RoutingConfig | None = None,
    early_escalation: bool = True,
) -> Plan:
    """`advice` and `routing` together switch the router on; its gates look at the credible bounds."""
    reasons: list[str] = []
    if request_threshold is not None:
        threshold = request_threshold
        reasons.append(f"threshold {threshold:.3f} from the request")
    else:
        threshold = effective_threshold(configured_threshold, device, share_offset)
        reasons.append(f"threshold {configured_threshold:.3f} configured")
        if device.shift:
            reasons.append(f"device {device.shift:+.3f} ({', '.join(device.reasons)})")
        if share_offset:
            reasons.append(f"cloud-share controller {share_offset:+.3f}")
        if device.shift or share_offset:
            reasons.append(f"effective threshold {threshold:.3f}")
    # The router's gates move with the threshold: a controller holding the cloud share (or a busy device) must
    # reach the questions the router would route before generating, or the share it holds is not the share served.
    moved = threshold - configured_threshold if request_threshold is None else 0.0
    weight = routing.weight if routing is not None else 1.0
    router_confidence = None
    if route != "auto":
        reasons.append(f"route {route} requested")
    elif advice is not None and advice.confidence is not None and routing is not None:
        router_confidence = advice.confidence
        low = advice.low if advice.low is not None else router_confidence
        high = advice.high if advice.high is not None else router_confidence
        cloud_below, local_above = routing.cloud_below + moved, routing.local_above + moved
        if high < cloud_below:
            route = "cloud"
            reasons.append(
                f"router {router_confidence:.3f} (at most {high:.3f}) < {cloud_below:.3f}: cloud before generation"
            )
        elif low >= local_above:
            route = "edge"
            reasons.append(
                f"router {router_confidence:.3f} (at least {low:.3f}) >= {local_above:.3f}: local, no escalation"
            )
        else:
            reasons.append(f"router {router_confidence:.3f} mixed with weight {1 - weight:.2f}")
    return Plan(route, threshold, router_confidence, weight, early_escalation, tuple(reasons))
