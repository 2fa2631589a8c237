"""The cascade's decisions with in-memory Protocol implementations: milliseconds per case, no models.

Every threshold effect goes through `decide()`; these tests pin what each one does and that it is reported.
"""

from __future__ import annotations

import asyncio
import math
from contextlib import aclosing

import numpy as np
import pytest

from edge.confidence.estimators import create_estimator
from edge.core.protocols import RouterAdvice
from edge.core.query import Policy, Query
from edge.pipeline.cascade import Cascade, CascadeParts
from edge.pipeline.decision import NOMINAL_DEVICE, DeviceShift, decide, escalation_score
from edge.pipeline.result import AnswerDelta, CascadeResult
from edge.pipeline.share import ShareTracker
from shared.config import CostConfig, EdgeConfig, RoutingConfig
from shared.errors import InvalidRequest
from tests.edge.pipeline.fakes import DictCache, FakeGenerator, FixedRouter, ListLabels, ScriptedUplink

SURE = "What is the capital of France?"
UNSURE = "What is the capital of Tuvalu?"
ANSWERS = {SURE: ([" Paris"], 0.95), UNSURE: ([" Fun", "af", "uti", " and", " more"], 0.001)}


def cascade(uplink=None, router=None, device=NOMINAL_DEVICE, cache=True, labels=None, **confidence) -> Cascade:
    config = EdgeConfig(confidence={"threshold": 0.5, **confidence})
    parts = CascadeParts(
        generator=FakeGenerator(ANSWERS),
        estimator=create_estimator("mean_logprob"),
        uplink=uplink or ScriptedUplink([" Fun", "afuti"]),
        cache=DictCache() if cache else None,
        router=router,
        labels=labels,
    )
    return Cascade(parts, config, CostConfig(), lambda: device)


async def test_confident_edge_answers_and_says_why():
    c = cascade()
    result = await c.answer(Query(question=SURE))
    assert result.served_by == "edge" and result.answer == "Paris"
    assert result.provenance.confidence == pytest.approx(0.95)
    assert result.provenance.reasons[0] == "threshold 0.500 configured"
    assert result.provenance.reasons[-1].startswith("kept local")
    assert c.parts.uplink.requests == []


async def test_unsure_edge_escalates_early_then_the_cache_serves():
    c = cascade()
    result = await c.answer(Query(question=UNSURE))
    assert result.served_by == "cloud" and result.answer == "Funafuti"
    assert result.provenance.early_escalation and result.tokens.edge == 4, "stopped before the last token"
    assert result.tokens.cloud_completion == 2
    assert c.parts.uplink.requests[0].edge_context.confidence == pytest.approx(0.001)
    again = await c.answer(Query(question=UNSURE))
    assert again.served_by == "cache" and again.answer == "Funafuti" and len(c.parts.uplink.requests) == 1


async def test_without_early_escalation_the_whole_draft_runs():
    result = await cascade(early_escalation=False).answer(Query(question=UNSURE))
    assert result.served_by == "cloud" and result.tokens.edge == 5 and not result.provenance.early_escalation


async def test_router_sends_to_cloud_before_generating():
    c = cascade(router=FixedRouter({SURE: 0.1}))
    result = await c.answer(Query(question=SURE))
    assert result.served_by == "cloud" and result.tokens.edge == 0 and c.parts.generator.calls == 0
    assert result.provenance.routed_before_generation == "cloud"
    assert any("cloud before generation" in r for r in result.provenance.reasons)


async def test_router_keeps_local_whatever_the_score():
    result = await cascade(router=FixedRouter({UNSURE: 0.9})).answer(Query(question=UNSURE))
    assert result.served_by == "edge" and result.provenance.routed_before_generation == "edge"


async def test_router_mix_moves_the_decision():
    # Too uncertain for a gate (bounds 0.3-0.9): mixed. 0.5 * 0.001 + 0.5 * 0.7 < 0.5: escalates.
    unsure = RouterAdvice(0.7, 0.3, 0.9)
    mixed = await cascade(router=FixedRouter({UNSURE: unsure}), early_escalation=False).answer(Query(question=UNSURE))
    assert mixed.served_by == "cloud" and mixed.provenance.router_confidence == 0.7
    assert any("mixed" in r for r in mixed.provenance.reasons)
    sure = await cascade(router=FixedRouter({SURE: RouterAdvice(0.4, 0.36, 0.44)})).answer(Query(question=SURE))
    assert sure.served_by == "edge"  # 0.5 * 0.95 + 0.5 * 0.4 = 0.675


async def test_neither_side_answers_stays_local_and_the_cloud_is_not_paid():
    # Neighbours: the cloud is no better (gain near 0 with little doubt): no escalation, whatever the score.
    result = await cascade(router=FixedRouter({UNSURE: RouterAdvice(0.5, 0.47, 0.53)})).answer(Query(question=UNSURE))
    assert result.served_by == "edge" and result.provenance.routed_before_generation == "edge"
    # The same score with wide bounds is not enough evidence for the gate.
    doubt = await cascade(router=FixedRouter({UNSURE: RouterAdvice(0.5, 0.2, 0.8)})).answer(Query(question=UNSURE))
    assert doubt.served_by == "cloud" and doubt.provenance.routed_before_generation is None


async def test_device_shift_escalates_more_but_a_request_threshold_wins():
    hot = DeviceShift(0.5, ("hot",))
    result = await cascade(device=hot).answer(Query(question=SURE))  # 0.95 < 0.5 + 0.5
    assert result.served_by == "cloud" and result.provenance.threshold == 1.0
    assert any("hot" in r for r in result.provenance.reasons)
    explicit = await cascade(device=hot).answer(Query(question=SURE, policy=Policy(threshold=0.3)))
    assert explicit.served_by == "edge" and explicit.provenance.threshold == 0.3


async def test_cloud_failure_degrades_to_a_completed_edge_draft():
    c = cascade(uplink=ScriptedUplink([" Fun", "afuti"], fail_after=0))
    result = await c.answer(Query(question=UNSURE))
    assert result.served_by == "edge" and result.degraded
    assert result.provenance.degraded_reason == "cloud_unreachable"
    assert result.tokens.edge == 5, "the early-stopped draft was completed"
    assert result.answer == "Funafuti and more"


async def test_a_stream_broken_after_sending_keeps_what_was_sent():
    c = cascade(uplink=ScriptedUplink([" Fun", "afu", "ti"], fail_after=2))
    events = [e async for e in c.answer_stream(Query(question=UNSURE))]
    deltas = [e.text for e in events if isinstance(e, AnswerDelta)]
    result = events[-1]
    assert deltas == ["Fun", "afu"] and result.answer == "Funafu" and result.degraded
    # Without live deltas nothing was sent yet, so the edge can still answer in full.
    whole = await cascade(uplink=ScriptedUplink([" Fun", "afu", "ti"], fail_after=2)).answer(Query(question=UNSURE))
    assert whole.served_by == "edge" and whole.degraded


async def test_cloud_deltas_stream_before_the_result_and_add_up_to_the_answer():
    c = cascade(uplink=ScriptedUplink([" Fun", "af", "uti", " \n"]), cache=False)
    events = [e async for e in c.answer_stream(Query(question=UNSURE))]
    assert all(isinstance(e, AnswerDelta) for e in events[:-1]) and isinstance(events[-1], CascadeResult)
    assert [e.text for e in events[:-1]] == ["Fun", "af", "uti"]
    assert "".join(e.text for e in events[:-1]) == events[-1].answer == "Funafuti"
    assert events[-1].timings.first_chunk_ms is not None


async def test_edge_answers_stream_once_decided():
    events = [e async for e in cascade().answer_stream(Query(question=SURE))]
    assert [type(e) for e in events] == [AnswerDelta, CascadeResult] and events[0].text == "Paris"


async def test_closing_the_stream_cancels_the_cloud_call():
    uplink = ScriptedUplink([" a"] * 50, delay_s=0.01)
    c = cascade(uplink=uplink, cache=False)
    async with aclosing(c.answer_stream(Query(question=UNSURE))) as events:
        async for event in events:
            assert isinstance(event, AnswerDelta)
            break
    assert uplink.open_streams == 0 and uplink.cancelled == 1
    assert c.parts.generator.running == 0


async def test_cancelling_the_task_cancels_the_cloud_call():
    uplink = ScriptedUplink([" a"] * 50, delay_s=0.01)
    c = cascade(uplink=uplink, cache=False)
    task = asyncio.create_task(c.answer(Query(question=UNSURE)))

    async def streaming() -> None:
        while not uplink.open_streams:
            await asyncio.sleep(0)  # yield until the cascade has the cloud stream open

    await asyncio.wait_for(streaming(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert uplink.open_streams == 0 and uplink.cancelled == 1


async def test_forced_routes_skip_what_they_say():
    c = cascade()
    assert (await c.answer(Query(question=UNSURE, policy=Policy(route="edge")))).served_by == "edge"
    assert (await c.answer(Query(question=SURE, policy=Policy(route="cloud")))).served_by == "cloud"


def test_queries_validate_themselves():
    for bad in (dict(question="  "), dict(prompt=""), dict(messages=()), dict(question="q", max_tokens=0)):
        with pytest.raises(InvalidRequest):
            Query(**bad)
    with pytest.raises(InvalidRequest, match="threshold"):
        Query(question="q", policy=Policy(threshold=1.5))
    q = Query(question="  What is X? ")
    assert q.request_id and q.sampling.stop == ("\n",) and q.key == Query(question="what is x?").key


def test_decide_composes_every_effect_in_order():
    routing = RoutingConfig(weight=0.5, cloud_below=0.3, local_above=0.75)
    plan = decide(0.5, device=DeviceShift(0.1, ("cpu_busy",)), advice=RouterAdvice(0.6, 0.5, 0.7), routing=routing)
    assert plan.route == "auto" and plan.threshold == pytest.approx(0.6)
    assert plan.score(0.8) == pytest.approx(escalation_score(0.8, 0.6, 0.5)) == pytest.approx(0.7)
    assert plan.keeps_local(0.8) and not plan.keeps_local(0.5)
    assert plan.stops_early(0.55) and not plan.stops_early(0.65)
    assert len(plan.reasons) == 4 and plan.reasons[2] == "effective threshold 0.600"
    assert decide(0.5, advice=RouterAdvice.exact(0.1), routing=routing).ranking_score(0.99) == -math.inf
    assert decide(0.5, advice=RouterAdvice.exact(0.9), routing=routing).ranking_score(0.01) == math.inf
    assert decide(0.5, route="cloud", advice=RouterAdvice.exact(0.9), routing=routing).router_confidence is None
    assert decide(0.5, advice=RouterAdvice.exact(0.9)).router_confidence is None, "no routing config: no router"


def test_share_controller_holds_the_realized_share_at_its_target():
    rng = np.random.default_rng(0)
    tracker = ShareTracker(target=0.3, window=500, step=0.01)
    for score in rng.uniform(0.0, 1.0, 3000):  # a threshold of 0.5 alone would escalate half of them
        tracker.observe(score < 0.5 + tracker.offset)
    report = tracker.report()
    assert report.realized == pytest.approx(0.3, abs=0.05) and report.offset == pytest.approx(-0.2, abs=0.06)
    short = []
    for _ in range(20):  # streams of 120 decisions, the threshold calibrated 20 points off the target
        fresh, escalated = ShareTracker(target=0.3, window=200, step=0.01), 0
        for score in rng.uniform(0.0, 1.0, 120):
            decision = bool(score < 0.5 + fresh.offset)
            fresh.observe(decision)
            escalated += decision
        short.append(escalated / 120)
    assert np.mean(short) == pytest.approx(0.3, abs=0.05), "held on a short stream too (a fixed step: 0.41)"
    idle = ShareTracker(target=None)
    idle.observe(True)
    assert idle.report().realized == 1.0 and idle.offset == 0.0, "without a target it only measures"


async def test_the_cascade_counts_its_own_decisions_and_applies_the_offset():
    c = cascade(cache=False, target_cloud_share=0.0, share_step=0.1, share_window=1)
    for _ in range(3):
        await c.answer(Query(question=UNSURE))  # escalated: the controller lowers the threshold
    await c.answer(Query(question=UNSURE, policy=Policy(route="cloud")))  # forced: not a decision
    assert c.share.report().decisions == 1 and c.share.offset == pytest.approx(-0.3), "3 decisions, window 1"
    result = await c.answer(Query(question=SURE, max_tokens=2))
    assert any("cloud-share controller -0.300" in r for r in result.provenance.reasons)
    assert result.provenance.threshold == pytest.approx(0.2)


async def test_a_forced_route_asks_its_side_past_the_cache():
    c = cascade()
    await c.answer(Query(question=UNSURE))  # escalated and cached
    assert (await c.answer(Query(question=UNSURE))).served_by == "cache"
    forced = await c.answer(Query(question=UNSURE, policy=Policy(route="cloud")))
    assert forced.served_by == "cloud" and len(c.parts.uplink.requests) == 2, "the cloud was asked again"
    assert (await c.answer(Query(question=UNSURE, policy=Policy(route="edge")))).served_by == "edge"


async def test_an_escalated_draft_is_labeled_by_the_clouds_answer():
    labels = ListLabels()
    c = cascade(labels=labels, early_escalation=False)
    await c.answer(Query(question=UNSURE))  # the draft says "Funafuti and more", the cloud "Funafuti"
    assert labels.records == [(UNSURE, True, "agreement")]
    other = ListLabels()
    await cascade(uplink=ScriptedUplink([" Vaiaku"]), labels=other).answer(Query(question=UNSURE))
    assert other.records == [(UNSURE, False, "agreement")], "an early-stopped draft that said otherwise"


async def test_no_label_without_a_policy_decision_or_a_draft():
    labels = ListLabels()
    c = cascade(labels=labels, cache=False)
    await c.answer(Query(question=UNSURE, policy=Policy(route="cloud")))  # forced: no draft, no decision
    await c.answer(Query(question=SURE))  # kept local: nothing to compare with
    await cascade(labels=labels, router=FixedRouter({UNSURE: 0.0})).answer(Query(question=UNSURE))  # routed early
    assert labels.records == []


def test_the_router_gates_move_with_the_share_controller():
    """A controller that must send fewer questions to the cloud reaches the router's pre-generation routes too."""
    routing = RoutingConfig(cloud_below=0.35, local_above=0.45)
    advice = RouterAdvice(0.3, 0.28, 0.32)
    assert decide(0.5, advice=advice, routing=routing).route == "cloud"
    assert decide(0.5, share_offset=-0.1, advice=advice, routing=routing).route == "auto", "gate lowered to 0.25"
    assert decide(0.5, share_offset=+0.2, advice=RouterAdvice(0.6, 0.6, 0.6), routing=routing).route == "auto"
    assert decide(0.5, request_threshold=0.9, advice=advice, routing=routing).route == "cloud", "a request's own"


async def test_the_router_compares_questions_by_their_relation():
    router = FixedRouter({"What is the capital of X?": 0.1})
    parts = CascadeParts(
        FakeGenerator(ANSWERS), create_estimator("mean_logprob"), ScriptedUplink([" Paris"]), None, router
    )
    c = Cascade(parts, EdgeConfig(routing={"relation_only": True}), CostConfig())
    assert (await c.answer(Query(question=SURE))).provenance.routed_before_generation == "cloud"
    literal = Cascade(parts, EdgeConfig(), CostConfig())
    assert (await literal.answer(Query(question=SURE))).provenance.routed_before_generation is None
