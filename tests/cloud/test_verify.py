"""Verifying the edge's draft on the real vLLM engine: exact mode is the cloud's own greedy answer whether the draft
is kept whole, in part or not at all; the kept prefix streams first; cancelling aborts both steps."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest

from shared.types import DraftVerification, EdgeContext, GenerationRequest, SamplingParams, VerifyMode
from tests.cloud.test_limits import wait_until_idle
from tests.cloud.test_service_vllm import capital_prompt

EXACT = DraftVerification(VerifyMode.EXACT)
STORY = "Once upon a time, in a small village by the sea,"


def request(rid: str, prompt: str, draft: str = "", verify: DraftVerification | None = EXACT, max_tokens: int = 24):
    return GenerationRequest(
        rid,
        SamplingParams(max_tokens=max_tokens, stop=("\nQ:",)),
        prompt=prompt,
        edge_context=EdgeContext(draft, 0.2, "mean_logprob", "edge") if draft else None,
        verify=verify if draft else None,
    )


async def test_exact_verification_is_the_clouds_own_greedy_answer(client):
    for i, prompt in enumerate((STORY, capital_prompt("France"))):
        alone = await client.generate(request(f"alone-{i}", prompt))
        assert alone.verification is None, "a request without the field is answered as before"
        words = alone.text.split(" ")
        cases = {"whole": alone.text, "wrong": "Zebra crossings are striped"}
        if len(words) >= 6:  # a one-word answer ("Paris") has no half to keep
            cases["half"] = " ".join(words[: len(words) // 2]) + " zebra zebra zebra"
        for name, draft in cases.items():
            verified = await client.generate(request(f"{name}-{i}", prompt, draft))
            v = verified.verification
            assert verified.text == alone.text, f"{name}: exact verification changed the answer: {v}"
            assert v is not None and v.mode == VerifyMode.EXACT and v.draft_tokens > 0
            if name == "whole":
                assert v.accepted_tokens >= v.draft_tokens - 1, v
            elif name == "half":
                assert 0 < v.accepted_tokens < v.draft_tokens, v
            else:
                assert v.accepted_tokens == 0 and "draft token 1 of" in v.stopped, v
            assert verified.completion_tokens <= alone.completion_tokens - v.accepted_tokens + 1, "kept, not generated"


async def test_the_kept_prefix_streams_first_as_one_delta(client):
    alone = await client.generate(request("stream-alone", STORY))
    draft = " ".join(alone.text.split(" ")[:6]) + " zebra"
    messages = [m async for m in client.stream(request("stream-verified", STORY, draft))]
    deltas = [m.delta.text for m in messages if m.HasField("delta")]
    final = messages[-1].final
    assert final.verification.accepted_tokens > 0 and len(deltas) >= 2
    assert alone.text.startswith(deltas[0]) and len(deltas[0]) >= len(" ".join(alone.text.split(" ")[:5]))
    assert "".join(deltas) == alone.text


async def test_lenient_keeps_at_least_what_exact_keeps(client):
    alone = await client.generate(request("lenient-alone", STORY))
    draft = " ".join(alone.text.split(" ")[:4]) + " a little fishing town"
    exact = await client.generate(request("lenient-exact", STORY, draft))
    lenient = await client.generate(request("lenient", STORY, draft, DraftVerification(VerifyMode.LENIENT, 0.05)))
    assert lenient.verification.mode == VerifyMode.LENIENT
    assert lenient.verification.accepted_tokens >= exact.verification.accepted_tokens


async def test_sampling_is_not_verified_exactly_and_says_so(client):
    sampled = replace(request("sampled", STORY, "Once"), sampling=SamplingParams(max_tokens=8, temperature=0.8, seed=1))
    result = await client.generate(sampled)
    assert result.verification.accepted_tokens == 0 and "temperature 0" in result.verification.stopped


async def test_cancelling_a_verified_stream_leaves_no_engine_request(client, stub):
    long = request("cancel", STORY, f"{STORY} " * 3, max_tokens=200)
    call = client.stream(long)
    first = await call.read()
    assert first.HasField("delta"), "the kept prefix, or the first generated token"
    call.cancel()
    await wait_until_idle(stub)


async def test_a_verification_without_a_draft_or_with_a_bad_alpha_is_refused(client):
    no_draft = replace(request("no-draft", STORY), verify=EXACT)
    bad_alpha = request("bad-alpha", STORY, "Once", DraftVerification(VerifyMode.LENIENT, 1.5))
    for bad, why in ((no_draft, "draft_answer"), (bad_alpha, "alpha")):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await client.generate(bad)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and why in refused.value.details()
