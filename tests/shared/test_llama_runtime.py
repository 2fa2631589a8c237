"""Per-step log-probs from the last logits row equal llama-cpp-python's own (logits_all=True) log-probs."""

from __future__ import annotations

import asyncio
import math
from contextlib import aclosing

import pytest
from llama_cpp import Llama

from shared.config import default_data_dir
from shared.llama_runtime import LlamaCppRunner
from shared.model_files import model_gguf
from shared.model_registry import SMOLLM2 as SMOLLM2_NAME
from shared.types import ChatMessage, FinishReason, SamplingParams

pytestmark = pytest.mark.model

SMOLLM2 = model_gguf(default_data_dir(), SMOLLM2_NAME)
PROMPT = "Q: What is the capital of Italy?\nA: Rome\nQ: What is the capital of France?\nA:"


@pytest.fixture(scope="module")
def runner():
    r = LlamaCppRunner(SMOLLM2, n_ctx=512, n_threads=2)
    yield r
    r.close()


def test_logprobs_match_llamacpp_reference(runner):
    steps = list(runner.stream(runner.tokenize(PROMPT), SamplingParams(max_tokens=8), top_n=2))
    reference = Llama(model_path=str(SMOLLM2), n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    out = reference.create_completion(PROMPT, max_tokens=8, temperature=0.0, logprobs=1)
    ref_lp = out["choices"][0]["logprobs"]["token_logprobs"]
    reference.close()
    assert "".join(s.text for s in steps).strip() == out["choices"][0]["text"].strip()
    assert len(steps) == len(ref_lp)
    for ours, ref in zip(steps, ref_lp, strict=True):
        assert math.isclose(ours.logprob, ref, abs_tol=1e-3), (ours.logprob, ref)
        assert ours.top[0].logprob >= ours.logprob - 1e-9
        assert 0.0 <= ours.margin <= 1.0 and ours.entropy >= 0.0
    assert steps[-1].finish_reason == FinishReason.LENGTH


def test_stop_string_and_eos(runner):
    steps = list(runner.stream(runner.tokenize(PROMPT), SamplingParams(max_tokens=20, stop=("\n",))))
    text = "".join(s.text for s in steps)
    assert "\n" not in text and text.strip()
    assert steps[-1].finish_reason == FinishReason.STOP
    chat = runner.tokenize_chat((ChatMessage("user", "Say hi."),))
    steps = list(runner.stream(chat, SamplingParams(max_tokens=64)))
    assert steps[-1].finish_reason in (FinishReason.STOP, FinishReason.LENGTH)


def test_seeded_sampling_reproducible(runner):
    sampling = SamplingParams(max_tokens=10, temperature=1.0, top_p=0.9, seed=3)
    ids = runner.tokenize("Tell me a joke.")
    a = [s.token_id for s in runner.stream(ids, sampling)]
    b = [s.token_id for s in runner.stream(ids, sampling)]
    assert a == b


def test_context_overflow_is_refused(runner):
    with pytest.raises(ValueError, match="n_ctx"):
        list(runner.stream(runner.tokenize("word " * 600), SamplingParams(max_tokens=4)))


async def test_astream_serializes_and_cancels(runner):
    ids = runner.tokenize("Once upon a time, in a land far away, there lived a dragon who")

    async def take(n: int) -> int:
        count = 0
        async with aclosing(runner.astream(ids, SamplingParams(max_tokens=200))) as stream:
            async for _ in stream:
                count += 1
                if count == n:
                    break
        return count

    # Two callers on one context: both finish, one after the other; breaking early frees the context.
    assert await asyncio.gather(take(5), take(7)) == [5, 7]
    steps = [s async for s in runner.astream(ids, SamplingParams(max_tokens=3))]
    assert len(steps) == 3
