"""OpenAI-shaped responses (JSON and server-sent events) built from a CascadeResult."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import asdict

from edge.cascade import CascadeResult


def provenance(result: CascadeResult) -> dict:
    """Tandem's extra field: who served, confidence, degradation, latency split and cost."""
    data = asdict(result)
    data.pop("tokens")
    data.pop("answer")
    return data


def usage(result: CascadeResult) -> dict:
    completion = len(result.tokens) if result.tokens else result.cloud_completion_tokens or result.edge_tokens
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": result.prompt_tokens + completion,
    }


def _finish(result: CascadeResult) -> str:
    return "length" if result.finish_reason == "length" else "stop"


def _chat_logprobs(result: CascadeResult) -> dict:
    return {
        "content": [
            {
                "token": t.token,
                "logprob": t.logprob,
                "bytes": list(t.token.encode()),
                "top_logprobs": [
                    {"token": a.token, "logprob": a.logprob, "bytes": list(a.token.encode())} for a in t.top
                ],
            }
            for t in result.tokens
        ]
    }


def _completion_logprobs(result: CascadeResult) -> dict:
    offsets, pos = [], 0
    for t in result.tokens:
        offsets.append(pos)
        pos += len(t.token)
    return {
        "tokens": [t.token for t in result.tokens],
        "token_logprobs": [t.logprob for t in result.tokens],
        "top_logprobs": None,
        "text_offset": offsets,
    }


def _envelope(result: CascadeResult, model: str, chat: bool, stream: bool = False) -> dict:
    kind = ("chat.completion.chunk" if stream else "chat.completion") if chat else "text_completion"
    return {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{result.request_id}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
    }


def chat_completion(result: CascadeResult, model: str, with_logprobs: bool) -> dict:
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": result.answer},
        "finish_reason": _finish(result),
        "logprobs": _chat_logprobs(result) if with_logprobs else None,
    }
    return {
        **_envelope(result, model, chat=True),
        "choices": [choice],
        "usage": usage(result),
        "tandem": provenance(result),
    }


def completion(result: CascadeResult, model: str, with_logprobs: bool) -> dict:
    choice = {
        "index": 0,
        "text": result.answer,
        "finish_reason": _finish(result),
        "logprobs": _completion_logprobs(result) if with_logprobs else None,
    }
    return {
        **_envelope(result, model, chat=False),
        "choices": [choice],
        "usage": usage(result),
        "tandem": provenance(result),
    }


def _pieces(answer: str) -> list[str]:
    """Word-sized pieces that concatenate to the answer exactly."""
    return re.findall(r"\s*\S+", answer) or [answer]


def _sse(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"


def stream_events(result: CascadeResult, model: str, chat: bool) -> Iterator[str]:
    """The decision needs the whole answer (its confidence), so the stream starts once the cascade has decided."""
    base = _envelope(result, model, chat, stream=True)
    if chat:
        yield _sse(
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        )
    for piece in _pieces(result.answer):
        choice = {"index": 0, "delta": {"content": piece}} if chat else {"index": 0, "text": piece}
        yield _sse({**base, "choices": [{**choice, "finish_reason": None}]})
    last = {"index": 0, "delta": {}} if chat else {"index": 0, "text": ""}
    yield _sse(
        {
            **base,
            "choices": [{**last, "finish_reason": _finish(result)}],
            "usage": usage(result),
            "tandem": provenance(result),
        }
    )
    yield _sse("[DONE]")
