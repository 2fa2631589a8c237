"""Assertions every backend's generation stream must satisfy."""

from __future__ import annotations

import math

from shared.types import GenerationResult


def assert_well_formed(result: GenerationResult, top_logprobs: int) -> None:
    assert result.completion_tokens >= 1
    assert len(result.tokens) == result.completion_tokens, "one log-prob entry per generated token"
    for token in result.tokens:
        assert math.isfinite(token.logprob) and token.logprob <= 0.0
        assert len(token.top) == top_logprobs
        if top_logprobs:
            best = token.top[0].logprob
            assert all(a.logprob <= best + 1e-6 for a in token.top)
            assert token.logprob <= best + 1e-4, "the sampled token cannot beat the best alternative"
    t = result.timings
    assert 0.0 <= t.queue_ms <= t.total_ms
    assert 0.0 < t.time_to_first_token_ms <= t.total_ms
    assert result.prompt_tokens > 0
