"""Checks a GenerateRequest once at the gRPC boundary and converts it to a frozen GenerationRequest.

Every error message names the field and the offending value, so a client
developer can fix the call without reading server logs.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace

from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from shared.errors import InvalidRequest, Unimplemented
from shared.prompts import PromptStyle, render_question
from shared.rpc import inference_pb2 as pb
from shared.text_checks import MAX_STOP_CHARS, text_problem
from shared.types import ChatMessage, DraftVerification, EdgeContext, GenerationRequest, SamplingParams, VerifyMode
from shared.wire import FLEET_SHARE_FROM_PB, verify_from_proto

CHAT_ROLES = frozenset({"system", "user", "assistant"})
MAX_STOP_STRINGS = 8
MAX_REQUEST_ID_LEN = 128
MAX_DRAFT_CHARS = 16_384
MAX_EMBEDDING_DIM = 4096
# Far more characters than any prompt that fits the context has: refused before tokenizing a megabyte.
CHARS_PER_CONTEXT_TOKEN = 16


@dataclass(frozen=True)
class RequestLimits:
    model_id: str
    max_output_tokens: int
    max_top_logprobs: int
    max_context_tokens: int
    experts: frozenset[str] = frozenset()
    serves_experts: bool = True  # False: the engine cannot load adapters (llama.cpp)
    prompt_style: PromptStyle = "few_shot_qa"  # how a bare question is rendered for this model

    @property
    def max_input_chars(self) -> int:
        return self.max_context_tokens * CHARS_PER_CONTEXT_TOKEN


def _text(name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidRequest(f"{name} has {len(value)} characters; at most {limit} allowed")
    if (problem := text_problem(value)) is not None:
        raise InvalidRequest(f"{name} {problem}")
    return value


def _unknown_field_numbers(message: Message, path: str = "") -> list[str]:
    """Fields the server's contract does not know: the client was built against another .proto."""
    found = [f"{path}#{f.field_number}" for f in UnknownFieldSet(message)]
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        children = value if descriptor.is_repeated else [value]
        for child in children:
            found += _unknown_field_numbers(child, f"{path}{descriptor.name}.")
    return found


def usable_embedding(values: tuple[float, ...] | list[float]) -> bool:
    """At most MAX_EMBEDDING_DIM numbers, all finite (the edge context's and an uploaded label's)."""
    return len(values) <= MAX_EMBEDDING_DIM and all(math.isfinite(x) for x in values)


def _finite(name: str, value: float, low: float, high: float, low_open: bool = False) -> float:
    if math.isnan(value) or math.isinf(value):
        raise InvalidRequest(f"{name} must be a finite number (got {value})")
    if value > high or value < low or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise InvalidRequest(f"{name} must be in {bracket}{low}, {high}] (got {value:g})")
    return value


def _sampling(msg: pb.GenerateRequest, limits: RequestLimits) -> SamplingParams:
    s = msg.sampling
    if not msg.HasField("sampling") or s.max_tokens == 0:
        raise InvalidRequest("sampling.max_tokens must be at least 1 (got 0 or unset)")
    if s.max_tokens > limits.max_output_tokens:
        raise InvalidRequest(
            f"sampling.max_tokens={s.max_tokens} exceeds this server's cap of {limits.max_output_tokens}"
        )
    temperature = _finite("sampling.temperature", s.temperature, 0.0, 2.0) if s.HasField("temperature") else 0.0
    top_p = _finite("sampling.top_p", s.top_p, 0.0, 1.0, low_open=True) if s.HasField("top_p") else 1.0
    if len(s.stop) > MAX_STOP_STRINGS:
        raise InvalidRequest(f"sampling.stop has {len(s.stop)} strings; at most {MAX_STOP_STRINGS} allowed")
    if any(not stop for stop in s.stop):
        raise InvalidRequest("sampling.stop must not contain empty strings")
    for i, stop in enumerate(s.stop):
        _text(f"sampling.stop[{i}]", stop, MAX_STOP_CHARS)
    return SamplingParams(
        max_tokens=s.max_tokens,
        temperature=temperature,
        top_p=top_p,
        stop=tuple(s.stop),
        seed=s.seed if s.HasField("seed") else None,
    )


def _messages(msg: pb.GenerateRequest, limits: RequestLimits) -> tuple[ChatMessage, ...]:
    if not msg.chat.messages:
        raise InvalidRequest("chat.messages is empty; send at least one message")
    total = sum(len(m.content) for m in msg.chat.messages)
    if total > limits.max_input_chars:
        raise InvalidRequest(f"chat.messages have {total} characters; at most {limits.max_input_chars} allowed")
    out = []
    for i, m in enumerate(msg.chat.messages):
        _text(f"chat.messages[{i}].content", m.content, limits.max_input_chars)
        if m.role not in CHAT_ROLES:
            raise InvalidRequest(f"chat.messages[{i}].role={m.role!r} is not one of {', '.join(sorted(CHAT_ROLES))}")
        if not m.content.strip():
            raise InvalidRequest(f"chat.messages[{i}].content is empty")
        out.append(ChatMessage(m.role, m.content))
    return tuple(out)


def _request_id(raw: str) -> str:
    if not raw:
        return uuid.uuid4().hex
    if len(raw) > MAX_REQUEST_ID_LEN or not raw.isprintable():
        raise InvalidRequest(f"request_id must be at most {MAX_REQUEST_ID_LEN} printable characters")
    return raw


def _edge_context(msg: pb.GenerateRequest) -> EdgeContext | None:
    if not msg.HasField("edge_context"):
        return None
    e = msg.edge_context
    confidence = _finite("edge_context.confidence", e.confidence, 0.0, 1.0)
    draft = _text("edge_context.draft_answer", e.draft_answer, MAX_DRAFT_CHARS)
    share = FLEET_SHARE_FROM_PB.get(e.fleet_share)
    if share is None:
        raise InvalidRequest(f"edge_context.fleet_share {e.fleet_share} is not a known value")
    embedding = tuple(e.question_embedding)
    if not usable_embedding(embedding):
        raise InvalidRequest(f"edge_context.question_embedding must be at most {MAX_EMBEDDING_DIM} finite numbers")
    return EdgeContext(
        draft, confidence, e.estimator, e.edge_model, share, embedding, e.embedder[:128], e.draft_cut_short
    )


def _verify(msg: pb.GenerateRequest) -> DraftVerification | None:
    try:
        verify = verify_from_proto(msg)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    if verify is None:
        return None
    if not msg.edge_context.draft_answer:
        raise InvalidRequest("verify_draft needs edge_context.draft_answer: the draft to verify")
    if verify.mode == VerifyMode.LENIENT:
        _finite("verify_draft.alpha", verify.alpha, 0.0, 1.0, low_open=True)
    return verify


def parse_generate_request(msg: pb.GenerateRequest, limits: RequestLimits) -> GenerationRequest:
    unknown = _unknown_field_numbers(msg)
    if unknown:
        raise InvalidRequest(
            f"request has fields this server does not know ({', '.join(unknown)}); "
            "client and server use different versions of tandem.v1"
        )
    if msg.model and msg.model != limits.model_id:
        raise InvalidRequest(f"unknown model {msg.model!r}; this server serves {limits.model_id!r}")
    kind = msg.WhichOneof("input")
    if kind is None:
        raise InvalidRequest("request needs one input: prompt, chat or question")
    if kind in ("prompt", "question") and not _text(kind, getattr(msg, kind), limits.max_input_chars).strip():
        raise InvalidRequest(f"{kind} is empty")
    if msg.expert and not limits.serves_experts:
        raise Unimplemented("this cloud's engine serves no memory experts (llama.cpp backend); use vllm")
    if msg.expert and msg.expert not in limits.experts:
        served = ", ".join(sorted(limits.experts)) or "none"
        raise InvalidRequest(f"unknown expert {msg.expert[:64]!r}; this server serves: {served}")
    top_logprobs = msg.top_logprobs if msg.HasField("top_logprobs") else None
    if top_logprobs is not None and top_logprobs > limits.max_top_logprobs:
        raise InvalidRequest(f"top_logprobs={msg.top_logprobs} exceeds this server's cap of {limits.max_top_logprobs}")
    sampling = _sampling(msg, limits)
    prompt: str | None = msg.prompt if kind == "prompt" else None
    messages: tuple[ChatMessage, ...] | None = None
    if kind == "chat":
        messages = _messages(msg, limits)
    elif kind == "question":
        prompt, messages, stop = render_question(msg.question, limits.prompt_style)
        sampling = replace(sampling, stop=tuple(dict.fromkeys((*sampling.stop, *stop))))
    return GenerationRequest(
        request_id=_request_id(msg.request_id),
        sampling=sampling,
        prompt=prompt,
        messages=messages,
        top_logprobs=top_logprobs,
        edge_context=_edge_context(msg),
        expert=msg.expert,
        verify=_verify(msg),
    )
