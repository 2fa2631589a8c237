"""Every bad input gets INVALID_ARGUMENT with a message naming the problem, and the server keeps serving."""

from __future__ import annotations

import grpc
import pytest

from shared.rpc import inference_pb2 as pb
from tests.settings import AUTH, MAX_OUTPUT_TOKENS


def ok_sampling(**kw) -> pb.SamplingParams:
    return pb.SamplingParams(max_tokens=kw.pop("max_tokens", 4), **kw)


def with_unknown_field() -> pb.GenerateRequest:
    valid = pb.GenerateRequest(prompt="hello", sampling=ok_sampling())
    # Field 99, varint 1: what a client built from a newer contract would send.
    return pb.GenerateRequest.FromString(valid.SerializeToString() + bytes([0x98, 0x06, 0x01]))


BAD_REQUESTS = {
    "empty prompt": (pb.GenerateRequest(prompt="", sampling=ok_sampling()), "prompt is empty"),
    "blank prompt": (pb.GenerateRequest(prompt="  \n ", sampling=ok_sampling()), "prompt is empty"),
    "no input": (pb.GenerateRequest(sampling=ok_sampling()), "needs one input"),
    "blank question": (pb.GenerateRequest(question=" \t", sampling=ok_sampling()), "question is empty"),
    "empty chat": (pb.GenerateRequest(chat=pb.ChatConversation(), sampling=ok_sampling()), "chat.messages is empty"),
    "bad role": (
        pb.GenerateRequest(
            chat=pb.ChatConversation(messages=[pb.ChatMessage(role="wizard", content="hi")]), sampling=ok_sampling()
        ),
        "role='wizard'",
    ),
    "empty chat content": (
        pb.GenerateRequest(
            chat=pb.ChatConversation(messages=[pb.ChatMessage(role="user", content="")]), sampling=ok_sampling()
        ),
        "content is empty",
    ),
    "max_tokens 0": (
        pb.GenerateRequest(prompt="hi", sampling=ok_sampling(max_tokens=0)),
        "max_tokens must be at least 1",
    ),
    "no sampling": (pb.GenerateRequest(prompt="hi"), "max_tokens must be at least 1"),
    "max_tokens over cap": (
        pb.GenerateRequest(prompt="hi", sampling=ok_sampling(max_tokens=MAX_OUTPUT_TOKENS + 1)),
        f"cap of {MAX_OUTPUT_TOKENS}",
    ),
    "negative temperature": (
        pb.GenerateRequest(prompt="hi", sampling=ok_sampling(temperature=-0.5)),
        "sampling.temperature must be in [0.0, 2.0]",
    ),
    "nan temperature": (
        pb.GenerateRequest(prompt="hi", sampling=ok_sampling(temperature=float("nan"))),
        "sampling.temperature must be a finite number",
    ),
    "top_p zero": (pb.GenerateRequest(prompt="hi", sampling=ok_sampling(top_p=0.0)), "sampling.top_p must be in (0.0"),
    "top_p above one": (pb.GenerateRequest(prompt="hi", sampling=ok_sampling(top_p=1.5)), "sampling.top_p"),
    "empty stop string": (pb.GenerateRequest(prompt="hi", sampling=ok_sampling(stop=[".", ""])), "empty strings"),
    "too many stops": (pb.GenerateRequest(prompt="hi", sampling=ok_sampling(stop=list("abcdefghi"))), "at most 8"),
    "top_logprobs over cap": (
        pb.GenerateRequest(prompt="hi", sampling=ok_sampling(), top_logprobs=21),
        "top_logprobs=21",
    ),
    "unknown model": (pb.GenerateRequest(model="gpt-9", prompt="hi", sampling=ok_sampling()), "unknown model 'gpt-9'"),
    "unknown field": (with_unknown_field(), "fields this server does not know (#99)"),
    "prompt longer than context": (
        pb.GenerateRequest(prompt="word " * 2100, sampling=ok_sampling()),
        "> the model context of 2048 tokens",
    ),
    "prompt plus max_tokens over context": (
        pb.GenerateRequest(prompt="word " * 1900, sampling=ok_sampling(max_tokens=200)),
        "> the model context of 2048 tokens",
    ),
    "edge confidence out of range": (
        pb.GenerateRequest(prompt="hi", sampling=ok_sampling(), edge_context=pb.EdgeContext(confidence=1.5)),
        "edge_context.confidence",
    ),
    "request id too long": (
        pb.GenerateRequest(request_id="x" * 200, prompt="hi", sampling=ok_sampling()),
        "request_id",
    ),
}


async def _drain(call) -> list[pb.GenerateResponse]:
    return [m async for m in call]


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
async def test_bad_request_is_invalid_argument_and_server_survives(stub, name):
    request, expected = BAD_REQUESTS[name]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await _drain(stub.Generate(request, metadata=AUTH, timeout=30))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    assert expected in err.value.details()

    replies = await _drain(
        stub.Generate(pb.GenerateRequest(prompt="The sky is", sampling=ok_sampling()), metadata=AUTH, timeout=30)
    )
    assert replies[-1].final.usage.completion_tokens == 4
