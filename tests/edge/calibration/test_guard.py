"""The guard and the choice among policy variants, on fixed outcomes (pure logic, the served replay)."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from edge.calibration.command import WrittenPolicy, fallback_policy, write_chosen, write_policy
from edge.calibration.curves import CurvePoint
from edge.calibration.guard import Baselines, objection, oracle_at
from edge.calibration.labeled import LabeledItem
from edge.calibration.outcomes import CloudRun, EdgeRun, Outcome, agreement_report
from edge.calibration.variants import Replay, Target, choose, evaluate, shares_without_objection
from edge.confidence.estimators import create_estimator
from shared.config import load_config


def outcome(i: int, edge_says: str, confidence: float, cloud_says: str, answer: str = "yes") -> Outcome:
    item = LabeledItem(f"q{i}", f"Question {i}?", (answer,), topic="t")
    edge = EdgeRun(edge_says, [math.log(confidence)], [0.0], [0.0], 0.1, 5)
    return Outcome(item, edge, CloudRun(cloud_says, 5, 1, 10.0))


def confidently_wrong(n: int, offset: int = 0) -> list[Outcome]:
    """The edge is sure exactly when it is wrong (its score ranks worse than chance); the cloud is always right."""
    rows = []
    for i in range(n):
        right = i % 2 == 0
        rows.append(outcome(offset + i, "yes" if right else "no", 0.3 if right else 0.9, "yes"))
    return rows


def test_simple_choices():
    base = Baselines(edge_only=0.4, cloud_only=0.6)
    assert base.random_at(0.5) == pytest.approx(0.5) and base.better_side == "cloud"
    assert objection(CurvePoint(0.5, 0.5, 0.55), base) is None
    assert "random" in objection(CurvePoint(0.5, 0.5, 0.5), base)
    edge_better = Baselines(edge_only=0.6, cloud_only=0.4)
    assert "edge alone" in objection(CurvePoint(0.5, 0.3, 0.58), edge_better)
    assert edge_better.gap_recovered(CurvePoint(0.5, 0.5, 0.55), oracle=0.6) == pytest.approx(0.5)
    assert oracle_at(np.array([True, False, False]), np.array([True, True, False]), 1.0) == pytest.approx(2 / 3)


def test_an_anti_signal_is_never_chosen_and_the_guard_objects():
    replay = Replay(confidently_wrong(20), confidently_wrong(20, 100), None, None, None)
    share = Target("cloud_share", 0.5)
    rows = [evaluate(name, create_estimator(name), False, replay, share) for name in ("mean_logprob", "min_logprob")]
    assert not any(r["signal"] for r in rows), "AUROC below 0.5 on calibration"
    best = choose(rows, share)
    assert best["held_out"]["accuracy"] < 0.75 and best["objection"] is not None, "worse than random at 50 %"


def test_a_real_signal_is_chosen_without_objection():
    right = [outcome(i, "yes", 0.9, "yes") for i in range(10)]
    wrong = [outcome(10 + i, "no", 0.2, "yes") for i in range(10)]
    held = [outcome(100 + i, "yes", 0.8, "yes") for i in range(10)] + [
        outcome(200 + i, "no", 0.3, "yes") for i in range(10)
    ]
    replay = Replay(right + wrong, held, None, None, None)
    half = Target("cloud_share", 0.5)
    best = choose([evaluate("mean_logprob", create_estimator("mean_logprob"), False, replay, half)], half)
    assert best["signal"] and best["objection"] is None and best["held_out"]["accuracy"] == 1.0
    shares = shares_without_objection(create_estimator("mean_logprob"), best, replay)
    assert shares == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), (
        "a perfect ranking beats random at any share"
    )


def test_written_policy_holds_the_share_and_the_fallback_escalates_nothing(tmp_path):
    path = tmp_path / "tandem.toml"
    path.write_text("[edge.local]\nmax_tokens = 32\n")
    write_policy(path, WrittenPolicy("margin", 0.42, router=True, target_cloud_share=0.3))
    edge = load_config(path).edge
    assert (edge.confidence.estimator, edge.confidence.threshold, edge.confidence.target_cloud_share) == (
        "margin",
        0.42,
        0.3,
    )
    assert edge.routing.enabled and edge.local.max_tokens == 32
    write_policy(path, fallback_policy("edge"))
    edge = load_config(path).edge
    assert edge.confidence.threshold == 0.0 and edge.confidence.target_cloud_share is None and not edge.routing.enabled


def test_agreement_report_says_how_far_agreement_means_right():
    rows = [outcome(0, "yes", 0.9, "yes"), outcome(1, "no", 0.9, "no"), outcome(2, "no", 0.9, "yes")]
    report = agreement_report(rows)["t"]
    assert report["questions"] == 3 and report["agree"] == 2
    assert report["edge_right_when_agreeing"] == 0.5 and report["edge_wrong_when_disagreeing"] == 1.0


def test_an_objected_policy_is_not_written_unless_forced_or_replaced_by_the_better_side(tmp_path):
    path = tmp_path / "tandem.toml"
    best = {"estimator": "margin", "threshold": 0.7, "router": True, "objection": "no better than random"}
    estimator = create_estimator("margin")

    def run(force: bool = False, fallback: bool = False) -> dict:
        args = argparse.Namespace(write=path, force=force, fallback=fallback, hold_share=True)
        report = {"target": {"cloud_share": 0.5}, "better_side": "edge"}
        write_chosen(args, report, best, estimator, trained_on=10)
        return report

    assert run()["not_written"] == "no better than random" and not path.exists()
    assert run(fallback=True)["wrote_fallback"] == "edge"
    assert load_config(path).edge.confidence.threshold == 0.0, "the edge alone: nothing escalates"
    assert run(force=True)["holds_cloud_share"] == 0.5
    assert load_config(path).edge.confidence.threshold == 0.7


def test_the_chosen_variant_serves_the_asked_share_when_one_does():
    rows = [
        {"signal": True, "gain_over_random": 0.10, "held_out": {"cloud_share": 0.65}},
        {"signal": True, "gain_over_random": 0.04, "held_out": {"cloud_share": 0.52}},
        {"signal": False, "gain_over_random": 0.20, "held_out": {"cloud_share": 0.50}},
    ]
    assert choose(rows, Target("cloud_share", 0.5)) is rows[1], "near the asked share, and a real signal"
    assert choose(rows, Target("accuracy", 0.5)) is rows[0], "no share was asked: the best gain"
