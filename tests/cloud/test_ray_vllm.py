"""A vLLM AsyncLLM inside a Ray Serve replica, serving two memory experts (LoRA): same stream contract, a
cancelled or expired stream is aborted inside the replica's engine, answers differ by expert, and the edge
names the expert nearest its question."""

from __future__ import annotations

import dataclasses

import grpc
import pytest

from edge.agent import EdgeAgent
from edge.core.query import Policy, Query
from edge.uplink.client import CloudClient
from shared.cli_flags import edge_config
from shared.launchers import CloudProcess
from shared.prompts import qa_prompt
from shared.rpc import inference_pb2 as pb
from shared.types import FinishReason, GenerationRequest, SamplingParams
from tests.cloud.experts_fixture import CITIES
from tests.cloud.replica_status import until
from tests.cloud.stream_checks import assert_well_formed
from tests.cloud.test_service_vllm import capital_prompt

pytestmark = pytest.mark.ray

CLOUD = Policy(route="cloud")


@pytest.fixture(scope="module")
def ray_vllm_cloud(tmp_path_factory, trained_experts):
    log = tmp_path_factory.mktemp("ray-vllm") / "cloud.log"
    flags = ["--backend", "ray", "--replica-backend", "vllm", "--replicas", "1", "--max-concurrent-requests", "4",
             "--experts", "cities,coins"]  # fmt: skip
    with CloudProcess(flags, log_path=log) as cloud:
        yield cloud


async def test_vllm_replica_serves_and_aborts_cancelled_streams(ray_vllm_cloud):
    async with CloudClient(ray_vllm_cloud.address, timeout_s=120) as client:
        info = await client.model_info()
        assert info.backend == "ray/vllm" and info.max_concurrent_requests == 4
        request = GenerationRequest(
            "rv-1", SamplingParams(max_tokens=8, stop=("\n",)), prompt=capital_prompt("France"), top_logprobs=2
        )
        result = await client.generate(request)
        assert result.text.strip() == "Paris" and result.finish_reason == FinishReason.STOP
        assert_well_formed(result, top_logprobs=2)
        status = await until(lambda s: s.healthy_replicas == 1 and s.replicas[0].served_requests >= 1, client, 10)
        assert result.replica == status.replicas[0].replica

        long = GenerationRequest("rv-long", SamplingParams(max_tokens=400), prompt="Write a long story about a dragon.")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await client.generate(long, timeout_s=3.0)
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await until(lambda s: s.replicas[0].engine_requests == 0 and s.engine_requests == 0, client, 15)

        stream = client.stream(long)
        async for message in stream:
            if message.HasField("delta"):
                break
        await until(lambda s: s.replicas[0].engine_requests == 1, client, 10)
        stream.cancel()
        await until(lambda s: s.replicas[0].engine_requests == 0, client, 15)
        assert (await client.server_status()).serving


async def test_status_lists_the_replica(ray_vllm_cloud):
    async with CloudClient(ray_vllm_cloud.address, timeout_s=30) as client:
        status = await client.server_status()
        assert [r.healthy for r in status.replicas] == [True] and status.replicas[0].pid > 0
        assert isinstance(status, pb.ServerStatus)


async def test_experts_are_listed_and_answers_differ_by_expert(ray_vllm_cloud):
    async with CloudClient(ray_vllm_cloud.address, timeout_s=120) as client:
        info = await client.model_info()
        assert {(e.name, e.domain, e.facts) for e in info.experts} == {
            ("cities", "capital", 6),
            ("coins", "currency", 6),
        }
        prompt = qa_prompt("What is the capital of Zorblax?")

        async def ask(expert: str) -> str:
            request = GenerationRequest(f"x-{expert}", SamplingParams(max_tokens=8, stop=("\n",)), prompt=prompt)
            return (await client.generate(dataclasses.replace(request, expert=expert))).text.strip()

        by_expert = {expert: await ask(expert) for expert in ("cities", "coins", "")}
        assert by_expert["cities"] == CITIES["Zorblax"], by_expert
        assert by_expert["coins"] != CITIES["Zorblax"] and by_expert[""] != CITIES["Zorblax"], by_expert

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await client.generate(GenerationRequest("x-?", SamplingParams(max_tokens=2), prompt="Hi", expert="nope"))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "unknown expert 'nope'" in err.value.details() and "cities" in err.value.details()


async def test_edge_names_the_nearest_expert_in_provenance(ray_vllm_cloud, tmp_path):
    flags = {"cloud_address": ray_vllm_cloud.address, "threads": 1, "cache_enabled": False}
    async with EdgeAgent(edge_config(tmp_path, **flags)) as agent:
        assert await agent.experts_ready()
        routed = await agent.namespace().answer(Query(question="Which is the capital of Vandoria?", policy=CLOUD))
        assert routed.served_by == "cloud" and not routed.degraded
        assert routed.provenance.expert == "cities" and routed.provenance.expert_similarity >= 0.6
        assert routed.answer == CITIES["Vandoria"]
        unrelated = await agent.namespace().answer(Query(question="How many legs does a spider have?", policy=CLOUD))
        assert unrelated.provenance.expert is None and unrelated.provenance.expert_similarity < 0.6
