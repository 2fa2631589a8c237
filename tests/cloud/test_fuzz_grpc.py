"""Fuzzing the gRPC API with hypothesis: every bad-input class gets INVALID_ARGUMENT naming the field (never
INTERNAL or UNKNOWN), and a good request succeeds right after. Runs against the session's real vLLM service.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.rpc import inference_pb2 as pb
from tests.settings import AUTH, MAX_OUTPUT_TOKENS

GENERATE = "/tandem.v1.InferenceService/Generate"
EXAMPLES = 6  # per class: the classes, not the repetitions, are the point


@dataclass(frozen=True)
class Case:
    payload: bytes
    field: str  # what the error message must name
    metadata: tuple[tuple[str, str], ...] = AUTH
    codes: tuple[grpc.StatusCode, ...] = (grpc.StatusCode.INVALID_ARGUMENT,)


def _req(field: str, **kw) -> Case:
    kw.setdefault("sampling", pb.SamplingParams(max_tokens=4))
    if "chat" not in kw:
        kw.setdefault("prompt", "Hello")
    return Case(pb.GenerateRequest(**kw).SerializeToString(), field)


def _sampling(field: str, **kw) -> Case:
    kw.setdefault("max_tokens", 4)
    return _req(field, sampling=pb.SamplingParams(**kw))


def _chat(field: str, *messages: tuple[str, str]) -> Case:
    chat = pb.ChatConversation(messages=[pb.ChatMessage(role=r, content=c) for r, c in messages])
    return _req(field, chat=chat)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


VALID = pb.GenerateRequest(prompt="Hello", sampling=pb.SamplingParams(max_tokens=4)).SerializeToString()
text = st.text(min_size=1, max_size=40)
bad_floats = st.one_of(st.just(math.nan), st.just(math.inf), st.just(-math.inf))
u32 = st.integers(0, 2**32 - 1)

CLASSES: dict[str, st.SearchStrategy[Case]] = {
    # Bytes that are not a GenerateRequest at all.
    "invalid utf-8 in prompt": st.binary(min_size=1, max_size=20).map(
        lambda b: Case(b"\x1a" + bytes([len(b) + 1]) + b"\xff" + b + b"\x2a\x02\x08\x04", "request")
    ),
    # A prompt that declares 127 bytes and carries fewer.
    "truncated message": st.integers(0, len(VALID) - 1).map(lambda n: Case(b"\x1a\x7f" + VALID[:n], "request")),
    "random bytes": st.binary(min_size=1, max_size=200).map(lambda b: Case(b"\xff\xff" + b, "request")),
    "wrong wire type": st.integers(1, 7).map(lambda f: Case(bytes([(f << 3) | 5]) + b"\x00\x00", "request")),
    "unknown field": st.integers(50, 5000).map(lambda n: Case(VALID + _varint(n << 3) + b"\x01", "fields")),
    "deeply nested": st.integers(200, 2000).map(lambda d: Case(b"\x22\x80\x01" * d, "request")),
    # The input.
    "no input": st.just(
        Case(pb.GenerateRequest(sampling=pb.SamplingParams(max_tokens=4)).SerializeToString(), "input")
    ),
    "blank prompt": st.text(alphabet=" \t\n\r", max_size=20).map(lambda t: _req("prompt", prompt=t)),
    "nul in prompt": text.map(lambda t: _req("prompt", prompt=t + "\x00" + t)),
    "megabyte prompt": st.integers(1_000_000, 1_500_000).map(lambda n: _req("prompt", prompt="a " * (n // 2))),
    "empty chat": st.just(_req("chat.messages", chat=pb.ChatConversation())),
    "unknown role": text.filter(lambda r: r not in ("system", "user", "assistant")).map(
        lambda r: _chat("role", (r, "hi"))
    ),
    "empty content": st.text(alphabet=" \n", max_size=5).map(lambda c: _chat("content", ("user", c))),
    "nul in content": text.map(lambda c: _chat("content", ("user", c + "\x00"))),
    "many messages": st.integers(600, 2000).map(lambda n: _chat("chat.messages", *[("user", "hi")] * n)),
    # Sampling.
    "no sampling": st.just(Case(pb.GenerateRequest(prompt="Hello").SerializeToString(), "max_tokens")),
    "max_tokens zero": st.just(_sampling("max_tokens", max_tokens=0)),
    "max_tokens over cap": st.integers(MAX_OUTPUT_TOKENS + 1, 2**32 - 1).map(
        lambda n: _sampling("max_tokens", max_tokens=n)
    ),
    "temperature not finite": bad_floats.map(lambda t: _sampling("temperature", temperature=t)),
    "temperature negative": st.floats(-1e30, -1e-3).map(lambda t: _sampling("temperature", temperature=t)),
    "temperature huge": st.floats(2.5, 1e30).map(lambda t: _sampling("temperature", temperature=t)),
    "top_p not finite": bad_floats.map(lambda p: _sampling("top_p", top_p=p)),
    "top_p zero or negative": st.floats(-1e30, 0.0).map(lambda p: _sampling("top_p", top_p=p)),
    "top_p above one": st.floats(1.01, 1e30).map(lambda p: _sampling("top_p", top_p=p)),
    "too many stops": st.integers(9, 5000).map(lambda n: _sampling("stop", stop=["x"] * n)),
    "empty stop": st.integers(1, 4).map(lambda n: _sampling("stop", stop=["a"] * (n - 1) + [""])),
    "huge stop": st.integers(2_000, 200_000).map(lambda n: _sampling("stop", stop=["z" * n])),
    "nul in stop": text.map(lambda s: _sampling("stop", stop=[s + "\x00"])),
    # Other fields.
    "top_logprobs over cap": st.integers(21, 2**32 - 1).map(lambda n: _req("top_logprobs", top_logprobs=n)),
    "unknown model": text.filter(lambda m: m.strip()).map(lambda m: _req("model", model="no-such-" + m)),
    "request_id too long": st.integers(129, 10_000).map(lambda n: _req("request_id", request_id="r" * n)),
    "request_id unprintable": text.map(lambda t: _req("request_id", request_id=t + "\x07\x00")),
    "edge confidence out of range": st.one_of(bad_floats, st.floats(1.01, 1e300), st.floats(-1e300, -0.01)).map(
        lambda c: _req("edge_context.confidence", edge_context=pb.EdgeContext(confidence=c))
    ),
    "huge edge draft": st.integers(200_000, 1_000_000).map(
        lambda n: _req("edge_context.draft_answer", edge_context=pb.EdgeContext(draft_answer="d" * n, confidence=0.5))
    ),
    "oversized metadata": st.integers(20_000, 60_000).map(
        lambda n: Case(
            VALID,
            "metadata",
            (*AUTH, ("x-pad", "p" * n)),
            (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT),
        )
    ),
}


@pytest.fixture(scope="module")
def generate(vllm_cloud) -> Callable:
    with grpc.insecure_channel(vllm_cloud.address) as channel:
        yield channel.unary_stream(
            GENERATE, request_serializer=lambda b: b, response_deserializer=pb.GenerateResponse.FromString
        )


def test_at_least_thirty_classes():
    assert len(CLASSES) >= 30


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_bad_input_class_is_refused_naming_the_field(generate, name):
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(CLASSES[name])
    def refused(case: Case) -> None:
        with pytest.raises(grpc.RpcError) as error:
            list(generate(case.payload, metadata=case.metadata, timeout=30))
        code, details = error.value.code(), error.value.details() or ""
        assert code in case.codes, f"{name}: {code} {details}"
        assert case.field in details, f"{name}: the message must name {case.field!r}: {details}"

    refused()
    replies = list(generate(VALID, metadata=AUTH, timeout=60))
    assert replies[-1].HasField("final"), "a good request succeeds right after"
