"""The alternative backend serves the same stream shape, log-probs included, through the same service."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from edge.uplink.client import CloudClient
from shared.launchers import CloudProcess
from shared.types import FinishReason, GenerationRequest, SamplingParams
from tests.cloud.stream_checks import assert_well_formed
from tests.cloud.test_service_vllm import capital_prompt

pytestmark = pytest.mark.model


async def test_llamacpp_backend_streams_same_contract(tmp_path):
    with CloudProcess(
        ["--backend", "llamacpp", "--threads", "2", "--max-concurrent-requests", "4"], log_path=tmp_path / "cloud.log"
    ) as cloud:
        async with CloudClient(cloud.address, timeout_s=60) as client:
            info = await client.model_info()
            assert info.backend == "llamacpp"
            request = GenerationRequest(
                "l-1", SamplingParams(max_tokens=8, stop=("\n",)), prompt=capital_prompt("France"), top_logprobs=3
            )
            result = await client.generate(request)
            assert result.text.strip() == "Paris"
            assert result.finish_reason == FinishReason.STOP
            assert_well_formed(result, top_logprobs=3)

            # One context, several callers: requests queue and all complete.
            many = [
                GenerationRequest(f"l-{i}", SamplingParams(max_tokens=6), prompt=capital_prompt(c), top_logprobs=1)
                for i, c in enumerate(["Peru", "Kenya", "Spain"])
            ]
            results = await asyncio.gather(*(client.generate(r) for r in many))
            assert [r.request_id for r in results] == ["l-0", "l-1", "l-2"]
            assert max(r.timings.queue_ms for r in results) > 0.0
            for r in results:
                assert_well_formed(r, top_logprobs=1)

            # llama.cpp loads no adapters: naming a memory expert is refused as unimplemented.
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await client.generate(
                    GenerationRequest("l-x", SamplingParams(max_tokens=2), prompt="Hi", expert="cities")
                )
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
