"""Accuracy against what the cloud costs, with draft verification on and off (pure computation).

A verified escalation pays the scored draft as input and only the tokens the cloud generated as output; the same
escalation unverified pays the prompt as input and the whole answer as output. One labeled run with verification
on gives both: the answer is the same (exact mode) and its kept tokens are what the cloud did not generate again.
Questions routed to the cloud before generation (score -inf) have no draft and always pay the unverified price.
The replay uses whole drafts: with early escalation a draft stops sooner, so the verified cost is a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.calibration.outcomes import Outcome
from shared.config import CostConfig
from shared.cost import answer_cost


@dataclass(frozen=True)
class CostPoint:
    cloud_share: float
    cost: float  # cloud cost per question, in the [cost] currency
    accuracy: float


def escalation_costs(outcomes: list[Outcome], price: CostConfig, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Per question, the cloud cost of escalating it: {"off": unverified, "verified": as the run verified it}."""
    off, verified = [], []
    for outcome, score in zip(outcomes, scores, strict=True):
        c = outcome.cloud
        if c is None:
            off.append(0.0)
            verified.append(0.0)
            continue
        whole = answer_cost(price, 0.0, c.prompt_tokens - c.draft_tokens, c.completion_tokens + c.kept_tokens)
        off.append(whole)
        drafted = bool(np.isfinite(score))
        verified.append(answer_cost(price, 0.0, c.prompt_tokens, c.completion_tokens) if drafted else whole)
    return {"off": np.array(off), "verified": np.array(verified)}


def cost_curve(scores: np.ndarray, edge_ok: np.ndarray, cloud_ok: np.ndarray, costs: np.ndarray) -> list[CostPoint]:
    """Escalating the k lowest-scored questions, k = 0..n (as `cascade_curve` does), with its cost per question."""
    order = np.argsort(scores, kind="stable")
    e, c, spent = edge_ok[order].astype(float), cloud_ok[order].astype(float), costs[order]
    n = len(order)
    cloud_prefix = np.concatenate([[0.0], np.cumsum(c)])
    edge_suffix = np.concatenate([np.cumsum(e[::-1])[::-1], [0.0]])
    cost_prefix = np.concatenate([[0.0], np.cumsum(spent)])
    return [
        CostPoint(k / n, float(cost_prefix[k] / n), float((cloud_prefix[k] + edge_suffix[k]) / n)) for k in range(n + 1)
    ]


def within_budget(curve: list[CostPoint], budget: float) -> CostPoint:
    """The point with the most escalations whose cost per question stays within `budget`."""
    return max((p for p in curve if p.cost <= budget + 1e-15), key=lambda p: p.cloud_share, default=curve[0])


def verification_savings(
    outcomes: list[Outcome], scores: np.ndarray, threshold: float, price: CostConfig
) -> dict[str, object]:
    """At the served threshold: cloud cost per question unverified and verified, what the unverified budget buys
    with verification on (share, accuracy), and both curves, so `calibrate` and benchmarks report one figure."""
    edge_ok = np.array([o.edge_correct for o in outcomes])
    cloud_ok = np.array([o.cloud_correct for o in outcomes])
    costs = escalation_costs(outcomes, price, scores)
    escalated = scores < threshold
    budget = float(costs["off"][escalated].sum() / len(outcomes))
    curves = {mode: cost_curve(scores, edge_ok, cloud_ok, c) for mode, c in costs.items()}
    bought = within_budget(curves["verified"], budget)
    runs = [o.cloud for o, up in zip(outcomes, escalated, strict=True) if up and o.cloud]
    kept, drafted = sum(c.kept_tokens for c in runs), sum(c.draft_tokens for c in runs)
    return {
        "cloud_share": float(escalated.mean()),
        "cost_per_question": {"off": budget, "verified": float(costs["verified"][escalated].sum() / len(outcomes))},
        "kept_draft_tokens": {"kept": int(kept), "drafted": int(drafted)},
        "same_budget_verified": {"cloud_share": bought.cloud_share, "accuracy": bought.accuracy},
        "accuracy": float(np.where(escalated, cloud_ok, edge_ok).mean()),
        "curves": {mode: [[p.cloud_share, p.cost, p.accuracy] for p in curve] for mode, curve in curves.items()},
    }
