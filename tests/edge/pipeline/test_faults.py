"""Faults never reach the caller: the edge answers with its own draft, marked degraded with the reason."""

from __future__ import annotations

import asyncio
import os
import signal

import grpc
import pytest

from edge.core.query import Policy, Query
from shared.launchers import CloudProcess, free_port
from shared.rpc import inference_pb2 as pb
from tests.settings import AUTH

pytestmark = pytest.mark.model

QUESTION = "What is the capital of Burkina Faso?"


async def test_cloud_not_running_degrades(make_agent):
    agent = make_agent(f"127.0.0.1:{free_port()}", threshold=1.0, cloud_timeout_s=5)
    result = await agent.namespace().answer(Query(question=QUESTION))
    assert result.served_by == "edge" and result.degraded
    assert result.provenance.degraded_reason == "cloud_unreachable"
    assert result.answer
    assert agent.namespace().status().cache_entries == 0


async def test_circuit_opens_after_repeated_failures(make_agent):
    agent = make_agent(f"127.0.0.1:{free_port()}", threshold=1.0, cloud_breaker_failures=2, cache_enabled=False)
    reasons = [(await agent.namespace().answer(Query(question=QUESTION))).provenance.degraded_reason for _ in range(3)]
    assert reasons == ["cloud_unreachable", "cloud_unreachable", "cloud_circuit_open"]


async def test_deadline_shorter_than_cloud_needs_degrades_and_aborts(vllm_cloud, make_agent):
    agent = make_agent(vllm_cloud.address, cloud_timeout_s=0.4, cloud_s_per_token=0.0, cache_enabled=False)
    result = await agent.namespace().answer(
        Query(question="Write a long story about a dragon.", max_tokens=200, stop=(), policy=Policy(route="cloud"))
    )
    assert result.degraded and result.provenance.degraded_reason == "cloud_deadline_exceeded"
    assert result.served_by == "edge" and result.answer
    async with grpc.aio.insecure_channel(vllm_cloud.address) as channel:
        from shared.rpc import inference_pb2_grpc

        stub = inference_pb2_grpc.InferenceServiceStub(channel)
        for _ in range(100):
            status = await stub.GetServerStatus(pb.ServerStatusRequest(), metadata=AUTH)
            if status.engine_requests == 0:
                break
            await asyncio.sleep(0.1)
        assert status.engine_requests == 0, "the cloud request was aborted"


async def test_cloud_killed_mid_stream_degrades(make_agent, tmp_path):
    with CloudProcess(["--backend", "llamacpp", "--threads", "1"], log_path=tmp_path / "cloud.log") as cloud:
        agent = make_agent(cloud.address, cloud_timeout_s=60, cache_enabled=False, cloud_api_key="")
        task = asyncio.create_task(
            agent.namespace().answer(
                Query(
                    question="Write a long story about a dragon.", max_tokens=400, stop=(), policy=Policy(route="cloud")
                )
            )
        )
        for _ in range(200):  # wait until the cloud is generating
            status = await agent.cloud_status()
            if status.engine_requests:
                break
            await asyncio.sleep(0.05)
        assert status.engine_requests == 1
        os.killpg(cloud.proc.pid, signal.SIGKILL)
        result = await asyncio.wait_for(task, 60)
    assert result.degraded and result.served_by == "edge"
    assert result.provenance.degraded_reason in {
        "cloud_unreachable",
        "cloud_error_internal",
        "cloud_error_cancelled",
        "cloud_error_unknown",
    }
    assert result.answer
