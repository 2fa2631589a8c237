"""The real service over a real gRPC channel: streaming, log-probs, usage, health, reflection, auth."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from shared.rpc import inference_pb2 as pb
from shared.types import ChatMessage, FinishReason, GenerationRequest, SamplingParams
from tests.cloud.stream_checks import assert_well_formed
from tests.settings import MAX_CONCURRENT, MAX_OUTPUT_TOKENS

FEW_SHOT = "Q: What is the capital of Italy?\nA: Rome\nQ: What is the capital of Japan?\nA: Tokyo\n"


def capital_prompt(country: str) -> str:
    return f"{FEW_SHOT}Q: What is the capital of {country}?\nA:"


async def test_streams_answer_with_logprobs_and_usage(client, hf_tokenizer):
    prompt = capital_prompt("France")
    request = GenerationRequest("t-france", SamplingParams(max_tokens=8, stop=("\n",)), prompt=prompt, top_logprobs=2)
    deltas = [m async for m in client.stream(request)]
    assert deltas[-1].HasField("final") and all(m.HasField("delta") for m in deltas[:-1])
    assert len(deltas) >= 2, "tokens arrive as a stream, not one message"

    result = await client.generate(request)
    assert result.text.strip() == "Paris"
    assert result.finish_reason == FinishReason.STOP
    assert result.request_id == "t-france"
    assert result.model == "gemma-3-270m-hf"
    assert result.prompt_tokens == len(hf_tokenizer(prompt).input_ids)
    assert result.tokens[0].token.strip() == "Paris"
    assert result.tokens[0].logprob > -1.0, "a confident answer has a high log-prob"
    assert result.cache.cacheable and result.cache.ttl_seconds > 0
    assert_well_formed(result, top_logprobs=2)


async def test_chat_request(client):
    request = GenerationRequest(
        "t-chat",
        SamplingParams(max_tokens=12, stop=("\n",)),
        messages=(ChatMessage("user", "What is 2 + 2?"),),
        top_logprobs=0,
    )
    result = await client.generate(request)
    assert result.text.strip()
    assert_well_formed(result, top_logprobs=0)


async def test_log_probs_only_when_asked(client):
    request = GenerationRequest("t-nolp", SamplingParams(max_tokens=6), prompt="The sky is")
    result = await client.generate(request)
    assert result.completion_tokens == 6 and result.text
    assert result.tokens == ()


async def test_max_tokens_ends_with_length(client):
    request = GenerationRequest("t-len", SamplingParams(max_tokens=5), prompt="Once upon a time")
    result = await client.generate(request)
    assert result.completion_tokens == 5
    assert result.finish_reason == FinishReason.LENGTH


async def test_seeded_sampling_is_reproducible_and_not_cacheable(client):
    sampling = SamplingParams(max_tokens=12, temperature=1.0, top_p=0.9, seed=7)
    a = await client.generate(GenerationRequest("t-s1", sampling, prompt="My favourite food is"))
    b = await client.generate(GenerationRequest("t-s2", sampling, prompt="My favourite food is"))
    assert a.text == b.text
    assert not a.cache.cacheable, "sampled answers must not be cached by the edge"


async def test_model_info(client):
    info = await client.model_info()
    assert info.backend == "vllm"
    assert info.model_id == "gemma-3-270m-hf"
    assert info.max_context_tokens == 2048
    assert info.max_output_tokens == MAX_OUTPUT_TOKENS
    assert info.max_concurrent_requests == MAX_CONCURRENT


async def test_health_serving_and_reflection_lists_service(vllm_cloud):
    async with grpc.aio.insecure_channel(vllm_cloud.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "tandem.v1.InferenceService"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with grpc.insecure_channel(vllm_cloud.address) as channel:
        services = ProtoReflectionDescriptorDatabase(channel).get_services()
    assert "tandem.v1.InferenceService" in services
    assert "grpc.health.v1.Health" in services


@pytest.mark.parametrize("metadata", [(), (("authorization", "Bearer wrong-key"),), (("authorization", "wrong"),)])
async def test_auth_rejects_missing_or_wrong_key(stub, metadata):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetModelInfo(pb.ModelInfoRequest(), metadata=metadata)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    call = stub.Generate(pb.GenerateRequest(prompt="hi", sampling=pb.SamplingParams(max_tokens=2)), metadata=metadata)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in call:
            pass
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
