"""OpenAI-shaped responses (JSON and server-sent events) built from the cascade's deltas and result."""

from __future__ import annotations

import json
import time

from edge.pipeline.result import CascadeResult


def usage(result: CascadeResult) -> dict:
    t = result.tokens
    completion = len(result.logprobs) if result.logprobs else t.cloud_completion or t.edge
    return {"prompt_tokens": t.prompt, "completion_tokens": completion, "total_tokens": t.prompt + completion}


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
            for t in result.logprobs
        ]
    }


def _completion_logprobs(result: CascadeResult) -> dict:
    offsets, pos = [], 0
    for t in result.logprobs:
        offsets.append(pos)
        pos += len(t.token)
    return {
        "tokens": [t.token for t in result.logprobs],
        "token_logprobs": [t.logprob for t in result.logprobs],
        "top_logprobs": [{a.token: a.logprob for a in t.top} for t in result.logprobs]
        if any(t.top for t in result.logprobs)
        else None,
        "text_offset": offsets,
    }


def envelope(request_id: str, model: str, chat: bool, stream: bool = False) -> dict:
    kind = ("chat.completion.chunk" if stream else "chat.completion") if chat else "text_completion"
    return {
        "id": f"{'chatcmpl' if chat else 'cmpl'}-{request_id}",
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
        **envelope(result.request_id, model, chat=True),
        "choices": [choice],
        "usage": usage(result),
        "tandem": result.report(),
    }


def completion(result: CascadeResult, model: str, with_logprobs: bool) -> dict:
    choice = {
        "index": 0,
        "text": result.answer,
        "finish_reason": _finish(result),
        "logprobs": _completion_logprobs(result) if with_logprobs else None,
    }
    return {
        **envelope(result.request_id, model, chat=False),
        "choices": [choice],
        "usage": usage(result),
        "tandem": result.report(),
    }


def sse(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"


def sse_role(base: dict) -> str:
    """A chat stream's first chunk: the assistant's role, no content yet."""
    return sse(
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    )


def sse_delta(base: dict, text: str, chat: bool) -> str:
    choice = {"index": 0, "delta": {"content": text}} if chat else {"index": 0, "text": text}
    return sse({**base, "choices": [{**choice, "finish_reason": None}]})


def sse_final(base: dict, result: CascadeResult, chat: bool) -> str:
    """The last chunk keeps `usage` and `tandem`, then the stream's terminator."""
    last = {"index": 0, "delta": {}} if chat else {"index": 0, "text": ""}
    final = {
        **base,
        "choices": [{**last, "finish_reason": _finish(result)}],
        "usage": usage(result),
        "tandem": result.report(),
    }
    return sse(final) + sse("[DONE]")
