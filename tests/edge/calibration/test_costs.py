"""Accuracy against cloud cost with draft verification on and off (pure computation on fixed outcomes)."""

from __future__ import annotations

import numpy as np
import pytest

from edge.calibration.costs import cost_curve, escalation_costs, verification_savings, within_budget
from edge.calibration.labeled import LabeledItem
from edge.calibration.outcomes import CloudRun, EdgeRun, Outcome
from shared.config import CostConfig

PRICE = CostConfig(cloud_input_per_1k=1.0, cloud_output_per_1k=10.0, edge_per_second=0.0)


def outcome(i: int, edge_says: str, cloud_says: str, draft: int, kept: int, generated: int) -> Outcome:
    item = LabeledItem(f"q{i}", f"question {i}?", ("yes",))
    edge = EdgeRun(edge_says, [-0.1], [1.0], [0.1], 0.1, 10)
    # 100 prompt tokens; a verified run reports the scored draft as input and only generated tokens as output.
    return Outcome(item, edge, CloudRun(cloud_says, 100 + draft, generated, 50.0, draft, kept))


OUTCOMES = [
    outcome(0, "no", "yes", draft=10, kept=9, generated=1),  # the cloud keeps most of the draft
    outcome(1, "no", "yes", draft=10, kept=5, generated=5),  # kept half
    outcome(2, "no", "yes", draft=10, kept=10, generated=0),  # kept whole
    outcome(3, "yes", "no", draft=0, kept=0, generated=10),  # no draft: nothing to verify
]


def test_an_escalation_costs_the_whole_answer_unverified_and_only_the_generated_tokens_verified():
    costs = escalation_costs(OUTCOMES, PRICE, np.array([0.1, 0.2, 0.3, 0.4]))
    # unverified: 100 prompt tokens in, kept + generated out
    assert costs["off"] == pytest.approx([0.1 + 0.1, 0.1 + 0.1, 0.1 + 0.1, 0.1 + 0.1])
    # verified: prompt + draft in, generated out
    assert costs["verified"] == pytest.approx([0.11 + 0.01, 0.11 + 0.05, 0.11, 0.1 + 0.1])


def test_a_question_routed_before_generation_has_no_draft_and_pays_the_whole_answer():
    costs = escalation_costs(OUTCOMES, PRICE, np.array([-np.inf, 0.2, 0.3, 0.4]))
    assert costs["verified"][0] == costs["off"][0]


def test_the_curve_escalates_the_lowest_scores_first_and_sums_their_cost():
    scores = np.array([0.1, 0.2, 0.3, 0.4])
    edge_ok = np.array([False, False, True, True])
    cloud_ok = np.array([True, True, True, False])
    curve = cost_curve(scores, edge_ok, cloud_ok, np.array([1.0, 2.0, 3.0, 4.0]))
    assert [p.cloud_share for p in curve] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [p.cost for p in curve] == pytest.approx([0.0, 0.25, 0.75, 1.5, 2.5])
    assert [p.accuracy for p in curve] == pytest.approx([0.5, 0.75, 1.0, 1.0, 0.75])
    assert within_budget(curve, 0.8).cloud_share == 0.5
    assert within_budget(curve, 0.0).cloud_share == 0.0


def test_the_unverified_budget_buys_more_escalations_when_verification_saves():
    scores = np.array([0.1, 0.2, 0.3, 0.4])
    report = verification_savings(OUTCOMES, scores, threshold=0.25, price=PRICE)
    assert report["cloud_share"] == 0.5
    cost = report["cost_per_question"]
    assert cost["off"] == pytest.approx((0.2 + 0.2) / 4) and cost["verified"] == pytest.approx((0.12 + 0.16) / 4)
    assert report["kept_draft_tokens"] == {"kept": 14, "drafted": 20}
    # 0.1 per question buys three verified escalations (0.0975), not four (0.1475)
    bought = report["same_budget_verified"]
    assert bought["cloud_share"] == 0.75 and bought["accuracy"] == 1.0 > report["accuracy"] == 0.75
    assert set(report["curves"]) == {"off", "verified"}


def test_without_savings_the_budget_buys_the_same_share():
    unverified = [outcome(i, "no", "yes", draft=0, kept=0, generated=10) for i in range(4)]
    report = verification_savings(unverified, np.array([0.1, 0.2, 0.3, 0.4]), threshold=0.35, price=PRICE)
    assert report["same_budget_verified"]["cloud_share"] == report["cloud_share"] == 0.75
