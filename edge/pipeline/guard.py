"""The online guard: a namespace whose policy escalates no better than a coin falls back to the coin.

The cloud's answers label the edge's drafts (agreement on escalations, audits of kept answers). The cloud is a
teacher, not an oracle: a label is the estimated gain of escalating that draft — 0 when the two agree, else how
much surer the cloud was of its answer than the edge of its draft (each side's geometric-mean token probability),
so a disagreement the cloud was unsure of counts for little. Each label is filed under what the policy decided
for that draft. A policy worth its cloud calls escalates the drafts with the larger gains; when the labels say,
with `z` standard errors of confidence, that the gain of its escalations is below that of the drafts it keeps,
every question is drafted and escalated at random with the share the namespace serves (by construction no worse
than random escalation, G = 0). The policy keeps deciding in the shadow, its decisions labeled by the random
escalations and audits, and it serves again once the labels say it beats the coin. Calibration and feedback
labels are not filed here: they are not decisions of the policy.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from dataclasses import dataclass

from edge.pipeline.decision import Plan
from shared.config import GuardConfig

POLICY, RANDOM = "policy", "random"
MIN_VARIANCE = 0.05


@dataclass(frozen=True)
class GroupLabels:
    labels: int
    gain: float | None  # mean estimated gain of escalating these drafts


@dataclass(frozen=True)
class GuardReport:
    serving: str  # "policy" or "random"
    why: str
    escalated: GroupLabels  # drafts the policy escalated (or would have)
    kept: GroupLabels  # drafts the policy kept (or would have)
    switches: int


class PolicyGuard:
    def __init__(self, config: GuardConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self.rng = rng or random.Random()  # public: tests draw the coin from a seed
        self._groups: dict[bool, deque[float]] = {g: deque(maxlen=config.window) for g in (True, False)}
        self._lock = threading.Lock()
        self.serving = POLICY
        self._why = "not enough labels yet" if config.enabled else "off"
        self._switches = 0
        self._share_at_switch: float | None = None

    @property
    def fallback(self) -> bool:
        return self.serving == RANDOM

    def observe(self, policy_escalated: bool, gain: float) -> None:
        """One draft labeled by the cloud (`estimated_gain`), under the policy's own decision for it."""
        if not self.config.enabled:
            return
        with self._lock:
            self._groups[policy_escalated].append(gain)
            self._judge()

    def coin(self, share: float) -> bool:
        """Escalate this question? (fallback only)"""
        return self.rng.random() < share

    def coin_share(self, target: float | None, realized: float | None) -> float:
        """The coin's share: the namespace's target, else its realized share when the guard took over (frozen:
        the coin's own decisions must not feed it back)."""
        with self._lock:
            if self._share_at_switch is None:
                self._share_at_switch = realized if realized is not None else 0.5
            return target if target is not None else self._share_at_switch

    def audit_rate(self, configured: float) -> float:
        """Kept answers are audited faster until the kept side has the labels the guard needs (audits on)."""
        with self._lock:
            short = self.config.enabled and configured > 0 and len(self._groups[False]) < self.config.min_labels
        return max(configured, self.config.warmup_audit_rate) if short else configured

    def _judge(self) -> None:
        escalated, kept = self._groups[True], self._groups[False]
        if min(len(escalated), len(kept)) < self.config.min_labels:
            return
        g_esc, se_esc = _mean(escalated)
        g_kept, se_kept = _mean(kept)
        margin, sd = g_esc - g_kept, math.hypot(se_esc, se_kept)
        figures = f"estimated gain of escalating {g_esc:+.2f} on escalated drafts, {g_kept:+.2f} on kept ones"
        if self.serving == POLICY and margin + self.config.z * sd < 0:
            self.serving, self._switches = RANDOM, self._switches + 1
            self._why = f"worse than random escalation: {figures}"
        elif self.serving == RANDOM and margin - self.config.z * sd > 0:
            self.serving, self._switches, self._share_at_switch = POLICY, self._switches + 1, None
            self._why = f"better than random escalation again: {figures}"
        elif self.serving == POLICY:
            self._why = f"not worse than random escalation: {figures}"
        else:
            self._why = f"on probation, not yet better than random escalation: {figures}"

    def report(self) -> GuardReport:
        with self._lock:
            groups = {g: GroupLabels(len(q), round(_mean(q)[0], 4) if q else None) for g, q in self._groups.items()}
            return GuardReport(self.serving, self._why, groups[True], groups[False], self._switches)


def _mean(gains: deque[float]) -> tuple[float, float]:
    """Mean and standard error; the variance floored so that a few identical labels are not taken as certain."""
    n = len(gains)
    mean = sum(gains) / n
    variance = sum((g - mean) ** 2 for g in gains) / max(1, n - 1)
    return mean, math.sqrt(max(variance, MIN_VARIANCE) / n)


def estimated_gain(agrees: bool, edge_sure: float | None, cloud_sure: float | None) -> float:
    """What escalating this draft gained, as far as the two answers tell: nothing when they agree; otherwise
    P(cloud right) - P(edge right), each side's own confidence standing for its chance (unknown: the cloud is
    taken as right, the edge as unsure)."""
    if agrees:
        return 0.0
    cloud = 1.0 if cloud_sure is None else cloud_sure
    edge = 0.5 if edge_sure is None else edge_sure
    return max(-1.0, min(1.0, cloud - edge))


@dataclass(frozen=True)
class CoinPlan(Plan):
    """The plan while the guard has taken over: draft, then escalate by a coin drawn with the namespace's share;
    the policy's own plan still decides in the shadow, so its decisions keep being labeled."""

    policy: Plan
    escalate: bool

    @classmethod
    def drawn(cls, policy: Plan, guard: PolicyGuard, target: float | None, realized: float | None) -> CoinPlan:
        share = guard.coin_share(target, realized)
        escalate = guard.coin(share)
        why = f"guard: {'escalate' if escalate else 'keep'} at random (share {share:.2f}), the policy is on probation"
        reasons = (*policy.reasons, why)
        return cls("auto", policy.threshold, None, 1.0, False, reasons, policy=policy, escalate=escalate)

    def keeps_local(self, logprob_score: float) -> bool:
        return not self.escalate

    def verdict(self, logprob_score: float, stopped_early: bool) -> tuple[bool, str]:
        shadow = "keep" if self.policy_keeps(logprob_score, not self.escalate) else "escalate"
        served = "escalated" if self.escalate else "kept local"
        return not self.escalate, f"{served} by the guard's coin (the policy: {shadow})"

    def policy_keeps(self, logprob_score: float, kept: bool) -> bool:
        return self.policy.keeps_local(logprob_score)
