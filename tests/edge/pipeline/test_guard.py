"""The online guard: a policy the cloud's labels show worse than a coin is replaced by the coin, and serves again
once its shadow decisions beat it; a label is the estimated gain of escalating (pure logic, and through the cascade
with in-memory parts)."""

from __future__ import annotations

import math
import random

import pytest

from edge.core.query import Policy, Query
from edge.pipeline.guard import POLICY, RANDOM, PolicyGuard, estimated_gain
from shared.answers import token_confidence
from shared.config import GuardConfig
from tests.edge.pipeline.fakes import ListLabels, ScriptedUplink
from tests.edge.pipeline.test_policy import SURE, UNSURE, cascade

CONFIG = GuardConfig(min_labels=5, z=1.0, warmup_audit_rate=0.25)


def feed(guard: PolicyGuard, policy_escalated: bool, gains: list[float]) -> None:
    for gain in gains:
        guard.observe(policy_escalated, gain)


def test_a_label_is_the_gain_the_two_answers_suggest():
    assert estimated_gain(True, 0.2, 0.99) == 0.0, "the same answer: escalating changed nothing"
    assert estimated_gain(False, 0.3, 0.9) == pytest.approx(0.6), "a sure cloud against an unsure edge"
    assert estimated_gain(False, 0.9, 0.3) == pytest.approx(-0.6), "an unsure cloud against a sure edge"
    assert estimated_gain(False, 0.3, None) == pytest.approx(0.7), "no cloud log-probs: the cloud taken as right"
    assert token_confidence([math.log(0.5), math.log(0.8)]) == pytest.approx(math.sqrt(0.4))
    assert token_confidence([]) is None


def test_a_policy_that_escalates_the_drafts_the_cloud_agrees_with_falls_back_to_the_coin():
    guard = PolicyGuard(CONFIG)
    feed(guard, True, [0.0] * 8)  # escalated drafts the cloud agreed with: wasted calls
    assert guard.serving == POLICY, "no judgement before the kept side has its labels"
    feed(guard, False, [0.8] * 4)
    assert guard.serving == POLICY
    feed(guard, False, [0.8])  # the kept drafts were those a sure cloud contradicted
    report = guard.report()
    assert report.serving == RANDOM and report.switches == 1
    assert report.why.startswith("worse than random escalation") and report.kept.gain == 0.8


def test_a_policy_that_beats_the_coin_keeps_serving_and_a_recovered_one_serves_again():
    guard = PolicyGuard(CONFIG)
    feed(guard, True, [0.7, 0.6, 0.8, 0.0, 0.5])
    feed(guard, False, [0.0, 0.0, 0.6, 0.0, -0.2])
    assert guard.serving == POLICY and guard.report().why.startswith("not worse")
    worse = PolicyGuard(GuardConfig(min_labels=5, window=10))
    feed(worse, True, [0.0] * 5)
    feed(worse, False, [0.8] * 5)
    assert worse.serving == RANDOM
    feed(worse, True, [0.8] * 10)  # the shadow policy learned: the window now says it beats the coin
    feed(worse, False, [0.0] * 10)
    assert worse.serving == POLICY and worse.report().switches == 2 and worse.report().why.startswith("not worse")


def test_an_undecided_margin_changes_nothing_and_a_disabled_guard_never_judges():
    guard = PolicyGuard(CONFIG)
    feed(guard, True, [0.0, 0.6] * 5)
    feed(guard, False, [0.6, 0.0] * 5)
    assert guard.serving == POLICY
    unsure = PolicyGuard(CONFIG)  # the cloud contradicted the kept drafts, but was no surer than the edge
    feed(unsure, True, [0.0] * 20)
    feed(unsure, False, [0.05, -0.05] * 10)
    assert unsure.serving == POLICY
    off = PolicyGuard(GuardConfig(enabled=False, min_labels=1))
    feed(off, True, [0.0] * 10)
    feed(off, False, [0.8] * 10)
    assert off.serving == POLICY and off.report().escalated.labels == 0 and off.report().why == "off"


def test_kept_answers_are_audited_faster_until_the_guard_can_judge():
    guard = PolicyGuard(CONFIG)
    assert guard.audit_rate(0.02) == 0.25
    assert guard.audit_rate(0.0) == 0.0, "audits off stay off"
    feed(guard, False, [0.0] * 5)
    assert guard.audit_rate(0.02) == 0.02


def fallen_back(c) -> PolicyGuard:
    guard = c.teacher.guard
    feed(guard, True, [0.0] * 20)
    feed(guard, False, [0.8] * 20)
    assert guard.fallback
    c.teacher.auditor.sampler.rate = 0.0  # no audit draws beside the coin's
    return guard


async def test_under_the_guard_a_coin_decides_and_the_policys_choice_is_still_labeled():
    labels = ListLabels()
    c = cascade(uplink=ScriptedUplink([" Paris"]), labels=labels, cache=False, target_cloud_share=0.5)
    guard = fallen_back(c)
    guard.rng = random.Random(3)
    coin = random.Random(3)
    draws = [coin.random() < 0.5 for _ in range(3)]
    questions = (SURE, UNSURE, SURE)
    results = [await c.answer(Query(question=q)) for q in questions]
    assert [r.served_by == "cloud" for r in results] == draws
    escalated = [r for r, d, q in zip(results, draws, questions, strict=True) if d and q == SURE]
    escalated_sure = escalated[0]
    assert escalated_sure.provenance.reasons[-1] == "escalated by the guard's coin (the policy: keep)"
    assert not escalated_sure.provenance.early_escalation, "the whole draft, so the label is the policy's too"
    report = guard.report()
    assert report.kept.labels == 20 + len(escalated), "the policy would have kept the confident draft: filed so"
    assert ("What is the capital of France?", True, "agreement") in labels.records
    assert 1.0 in labels.cloud_sides, "an agreeing cloud is labeled as right as the edge"


async def test_forced_routes_and_request_thresholds_bypass_the_guard():
    c = cascade(uplink=ScriptedUplink([" Paris"]), labels=ListLabels(), cache=False)
    guard = fallen_back(c)
    guard.rng = random.Random(0)
    forced = await c.answer(Query(question=SURE, policy=Policy(route="edge")))
    own = await c.answer(Query(question=SURE, policy=Policy(threshold=0.1)))
    assert forced.served_by == own.served_by == "edge"
    assert not any("guard" in r for r in (*forced.provenance.reasons, *own.provenance.reasons))
    assert guard.report().kept.labels == 20 and guard.report().escalated.labels == 20


def test_the_coins_share_is_frozen_at_the_switch_and_its_decisions_do_not_steer():
    from edge.pipeline.share import ShareTracker

    guard = PolicyGuard(CONFIG)
    feed(guard, True, [0.0] * 5)
    feed(guard, False, [0.8] * 5)
    assert guard.coin_share(None, 0.3) == 0.3 and guard.coin_share(None, 0.9) == 0.3, "not fed back by the coin"
    assert guard.coin_share(0.5, 0.9) == 0.5, "a target wins"
    tracker = ShareTracker(target=0.5)
    for _ in range(10):
        tracker.observe(True, steered=False)
    assert tracker.offset == 0.0 and tracker.report().realized == 1.0
