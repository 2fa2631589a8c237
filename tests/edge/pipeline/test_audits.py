"""Audits of answers kept local: sampling, the hourly budget, labels, and never delaying the app (pure logic)."""

from __future__ import annotations

import asyncio
import random

from edge.core.query import Policy, Query
from edge.pipeline.audit import Auditor, AuditSampler
from edge.pipeline.teacher import Teacher
from tests.clock import ManualClock
from tests.edge.pipeline.fakes import ListLabels, ScriptedUplink
from tests.edge.pipeline.test_policy import SURE, cascade


def test_the_sampled_rate_is_the_configured_one():
    sampler = AuditSampler(0.05, per_hour=10_000, rng=random.Random(1))
    taken = sum(sampler.take() for _ in range(20_000))
    assert abs(taken / 20_000 - 0.05) < 0.005
    assert sampler.report().eligible == 20_000 and sampler.report().sampled == taken


def test_the_hourly_budget_holds_in_a_sliding_hour():
    clock = ManualClock()
    sampler = AuditSampler(1.0, per_hour=3, clock=clock)
    assert [sampler.take() for _ in range(5)] == [True, True, True, False, False]
    clock.t = 3599.0
    assert not sampler.take()
    clock.t = 3600.5
    assert sampler.take() and sampler.report().over_budget == 3


class GatedUplink(ScriptedUplink):
    """Answers only once the test opens the gate: an audit still running is observable."""

    def __init__(self, words: list[str]) -> None:
        super().__init__(words)
        self.gate = asyncio.Event()

    async def stream(self, request):
        await self.gate.wait()
        async for event in super().stream(request):
            yield event


def audited(c, uplink, labels) -> Teacher:
    """The cascade's teacher with every kept answer audited."""
    teacher = Teacher(labels, uplink, c.config)
    teacher.auditor = Auditor(AuditSampler(1.0, per_hour=10), uplink)
    return teacher


async def test_a_kept_answer_is_audited_in_the_background_and_labeled():
    labels, uplink = ListLabels(), GatedUplink([" Lyon"])
    c = cascade(uplink=uplink, labels=labels)
    c.teacher = audited(c, uplink, labels)
    result = await c.answer(Query(question=SURE))
    assert result.served_by == "edge" and result.answer == "Paris", "the app has its answer"
    assert c.teacher.auditor.running == 1 and labels.records == [], "while the audit still waits on the cloud"
    uplink.gate.set()
    await c.teacher.auditor.settle()
    assert labels.records == [(SURE, False, "audit")], "the cloud said otherwise: the edge is labeled wrong"
    assert labels.cloud_sides == [None], "the scripted cloud sends no log-probs: its side stays unknown"
    assert c.teacher.auditor.sampler.report().finished == 1


async def test_forced_routes_are_not_audited_and_closing_cancels_audits():
    labels, uplink = ListLabels(), GatedUplink([" Paris"])
    c = cascade(uplink=uplink, labels=labels)
    c.teacher = audited(c, uplink, labels)
    await c.answer(Query(question=SURE, policy=Policy(route="edge")))
    assert c.teacher.auditor.sampler.report().eligible == 0
    await c.answer(Query(question=SURE))
    assert c.teacher.auditor.running == 1
    await c.aclose()
    assert c.teacher.auditor.running == 0 and labels.records == []
