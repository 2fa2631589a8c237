"""The online guard: a namespace whose policy escalates no better than a coin falls back to the coin.

The cloud's answers label the edge's drafts (agreement on escalations, audits of kept answers), and each label
is filed under what the policy decided for that question. A policy worth its cloud calls escalates the drafts
the cloud disagrees with more often than those it keeps; when the labels say, with `z` standard deviations of
confidence, that it does the opposite, every question is drafted and escalated at random with the share the
namespace serves (by construction no worse than random escalation, G = 0). The policy keeps deciding in the
shadow, its decisions labeled by the random escalations and audits, and it serves again once the labels say it
beats the coin. Calibration and feedback labels are not filed here: they are not decisions of the policy.
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


@dataclass(frozen=True)
class GroupLabels:
    labels: int
    disagree: float | None  # share of these drafts the cloud disagreed with


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
        self._groups: dict[bool, deque[bool]] = {g: deque(maxlen=config.window) for g in (True, False)}
        self._lock = threading.Lock()
        self.serving = POLICY
        self._why = "not enough labels yet" if config.enabled else "off"
        self._switches = 0

    @property
    def fallback(self) -> bool:
        return self.serving == RANDOM

    def observe(self, policy_escalated: bool, edge_agrees: bool) -> None:
        """One draft labeled by the cloud, under the policy's own decision for it."""
        if not self.config.enabled:
            return
        with self._lock:
            self._groups[policy_escalated].append(not edge_agrees)
            self._judge()

    def coin(self, share: float) -> bool:
        """Escalate this question? (fallback only)"""
        return self.rng.random() < share

    def audit_rate(self, configured: float) -> float:
        """Kept answers are audited faster until the kept side has the labels the guard needs (audits on)."""
        with self._lock:
            short = self.config.enabled and configured > 0 and len(self._groups[False]) < self.config.min_labels
        return max(configured, self.config.warmup_audit_rate) if short else configured

    def _judge(self) -> None:
        escalated, kept = self._groups[True], self._groups[False]
        if min(len(escalated), len(kept)) < self.config.min_labels:
            return
        d_esc, sd_esc = _rate(escalated)
        d_kept, sd_kept = _rate(kept)
        margin, sd = d_esc - d_kept, math.hypot(sd_esc, sd_kept)
        figures = f"the cloud disagreed with {d_esc:.2f} of escalated drafts and {d_kept:.2f} of kept ones"
        if self.serving == POLICY and margin + self.config.z * sd < 0:
            self.serving, self._switches = RANDOM, self._switches + 1
            self._why = f"worse than random escalation: {figures}"
        elif self.serving == RANDOM and margin - self.config.z * sd > 0:
            self.serving, self._switches = POLICY, self._switches + 1
            self._why = f"better than random escalation again: {figures}"
        else:
            self._why = f"{'not ' if self.serving == POLICY else ''}worse than random escalation: {figures}"

    def report(self) -> GuardReport:
        with self._lock:
            groups = {g: GroupLabels(len(q), round(sum(q) / len(q), 4) if q else None) for g, q in self._groups.items()}
            return GuardReport(self.serving, self._why, groups[True], groups[False], self._switches)


def _rate(disagreements: deque[bool]) -> tuple[float, float]:
    """Laplace-smoothed share and its standard error."""
    n = len(disagreements)
    p = (sum(disagreements) + 1) / (n + 2)
    return p, math.sqrt(p * (1 - p) / (n + 2))


@dataclass(frozen=True)
class CoinPlan(Plan):
    """The plan while the guard has taken over: draft, then escalate by a coin drawn with the namespace's share;
    the policy's own plan still decides in the shadow, so its decisions keep being labeled."""

    policy: Plan | None = None
    escalate: bool = False

    @classmethod
    def drawn(cls, policy: Plan, guard: PolicyGuard, share: float) -> CoinPlan:
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
        assert self.policy is not None
        return self.policy.keeps_local(logprob_score)
