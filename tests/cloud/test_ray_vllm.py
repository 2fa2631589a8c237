"""A vLLM AsyncLLM inside a Ray Serve replica: same stream contract, and a cancelled or expired stream is
aborted inside the replica's engine."""

from __future__ import annotations

import grpc
import pytest

from cloud.launcher import CloudProcess
from edge.uplink.client import CloudClient
from shared.rpc import inference_pb2 as pb
from shared.types import FinishReason, GenerationRequest, SamplingParams
from tests.cloud.replica_status import until
from tests.cloud.stream_checks import assert_well_formed
from tests.cloud.test_service_vllm import capital_prompt


@pytest.fixture(scope="module")
def ray_vllm_cloud(tmp_path_factory):
    log = tmp_path_factory.mktemp("ray-vllm") / "cloud.log"
    flags = ["--backend", "ray", "--replica-backend", "vllm", "--replicas", "1", "--max-concurrent-requests", "4"]
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
