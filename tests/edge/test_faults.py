"""Network faults between a real edge and a real cloud (llama.cpp backend), injected by a loopback proxy.

Every case must end in an answer (the cloud's, or the edge's marked degraded with a reason) within a bound,
never a hang or an exception; after the fault heals, the cloud answers again.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing

import pytest

from benchmarks.fault_proxy import FaultProxy
from edge.agent import EdgeAgent
from edge.core.query import Policy, Query
from edge.pipeline.result import AnswerDelta, CascadeResult
from shared.cli_flags import edge_config
from shared.launchers import CloudProcess
from shared.service_process import free_port

pytestmark = pytest.mark.model

TIMEOUT_S = 3.0
PERU = Query(question="What is the capital of Peru?", policy=Policy(route="cloud"))
LONG = Query(prompt="Once upon a time, in a small village by the sea,", max_tokens=96, policy=Policy(route="cloud"))


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    log = tmp_path_factory.mktemp("faults") / "cloud.log"
    with CloudProcess(["--backend", "llamacpp", "--threads", "1"], log_path=log) as c:
        yield c


@pytest.fixture
def proxy(cloud):
    with FaultProxy(cloud.host, cloud.port) as p:
        yield p


def _agent(tmp_path, address: str) -> EdgeAgent:
    # The whole stream must fit in TIMEOUT_S: no per-token allowance.
    flags = {
        "cloud_address": address,
        "threads": 1,
        "cloud_timeout_s": TIMEOUT_S,
        "cloud_s_per_token": 0.0,
        "cloud_breaker_failures": 100,
    }
    return EdgeAgent(edge_config(tmp_path, **flags))


async def _answer_cutting_after_first_delta(agent: EdgeAgent, cut) -> tuple[CascadeResult, int]:
    deltas = 0
    async with aclosing(agent.namespace().answer_stream(LONG)) as events:
        async for event in events:
            if isinstance(event, AnswerDelta):
                deltas += 1
                if deltas == 1:
                    cut()
            else:
                return event, deltas
    raise AssertionError("the stream ended without a result")


async def _recovers(agent: EdgeAgent, within_s: float = 15.0) -> None:
    """The channel reconnects on its backoff (at most 10 s), so the cloud answers again soon after a heal."""
    deadline = time.monotonic() + within_s
    while (result := await agent.namespace().answer(PERU)).degraded and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    assert result.served_by == "cloud" and not result.degraded, result.provenance.degraded_reason


@pytest.mark.parametrize(
    ("fault", "reason"), [("slow", "cloud_deadline_exceeded"), ("blackhole", "cloud_deadline_exceeded")]
)
async def test_cloud_slower_than_the_deadline_degrades_in_bounded_time(tmp_path, proxy, fault, reason):
    if fault == "slow":
        proxy.delay_s = TIMEOUT_S  # every chunk held longer than the whole deadline
    else:
        proxy.mode = "blackhole"
    async with _agent(tmp_path, proxy.address) as agent:
        started = time.perf_counter()
        result = await agent.namespace().answer(PERU)
        elapsed = time.perf_counter() - started
        assert result.degraded and result.served_by == "edge" and result.answer
        assert result.provenance.degraded_reason == reason
        assert elapsed < TIMEOUT_S + 10, f"bounded by the deadline plus a local answer, took {elapsed:.1f} s"
        proxy.heal()
        await _recovers(agent)


async def test_partition_during_a_stream_then_heal(tmp_path, proxy):
    async with _agent(tmp_path, proxy.address) as agent:
        result, deltas = await _answer_cutting_after_first_delta(agent, proxy.partition)
        assert deltas >= 1 and result.degraded, "a cut stream is reported, not passed off as complete"
        assert result.provenance.degraded_reason
        refused = await agent.namespace().answer(PERU)
        assert refused.degraded and refused.served_by == "edge"
        proxy.heal()
        await _recovers(agent)


async def test_cloud_killed_mid_stream_and_restarted(tmp_path):
    port = free_port()
    flags = ["--backend", "llamacpp", "--threads", "1"]
    doomed = CloudProcess(flags, port=port, log_path=tmp_path / "doomed.log").start()
    try:
        async with _agent(tmp_path, doomed.address) as agent:
            result, _ = await _answer_cutting_after_first_delta(agent, doomed.kill)
            assert result.degraded and result.provenance.degraded_reason
            down = await agent.namespace().answer(PERU)
            assert down.degraded and down.provenance.degraded_reason == "cloud_unreachable"
            with CloudProcess(flags, port=port, log_path=tmp_path / "back.log"):
                await _recovers(agent)
    finally:
        doomed.stop()
