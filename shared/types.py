"""Validated request/response types that travel inside Tandem.

Requests are validated once at the system boundary (gRPC or HTTP) and converted
to these frozen dataclasses; nothing inward sees raw protobuf or JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class FinishReason(enum.StrEnum):
    STOP = "stop"
    LENGTH = "length"
    ABORT = "abort"


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class EdgeContext:
    draft_answer: str = ""
    confidence: float = 0.0
    estimator: str = ""
    edge_model: str = ""
    # Fleet learning (proto FleetShare): what the cloud may keep of this escalation, with the tenant's consent.
    fleet_share: str = "off"  # "off", "embeddings" or "text"
    question_embedding: tuple[float, ...] = ()
    embedder: str = ""
    draft_cut_short: bool = False


class VerifyMode(enum.StrEnum):
    """How the cloud treats the edge's draft (proto DraftVerification.Mode)."""

    OFF = "off"
    EXACT = "exact"  # keep the draft's prefix that is the cloud's own greedy answer: lossless
    LENIENT = "lenient"  # keep draft tokens the cloud finds at least `alpha` times as likely as its top token


@dataclass(frozen=True)
class DraftVerification:
    mode: VerifyMode = VerifyMode.OFF
    alpha: float = 0.3  # LENIENT only


@dataclass(frozen=True)
class VerificationReport:
    """How the draft fared, in the cloud's tokens: accepted ones were not generated again."""

    mode: VerifyMode
    draft_tokens: int
    accepted_tokens: int
    stopped: str  # why verification stopped: the first token the cloud would not have chosen, the end, ...


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: exactly one of `prompt`, `messages` and `question` is set (a question only on the edge's
    way out: the cloud renders it for its own model)."""

    request_id: str
    sampling: SamplingParams
    prompt: str | None = None
    messages: tuple[ChatMessage, ...] | None = None
    top_logprobs: int | None = None  # None: no log-probs; 0: the sampled token's; N: plus N alternatives
    edge_context: EdgeContext | None = None
    expert: str = ""  # a memory expert (LoRA adapter) the cloud serves; empty: the base model
    question: str | None = None
    verify: DraftVerification | None = None  # verify edge_context.draft_answer instead of generating it again


@dataclass(frozen=True)
class TopLogprob:
    token_id: int
    token: str
    logprob: float


@dataclass(frozen=True)
class TokenLogprob:
    token_id: int
    token: str
    logprob: float
    top: tuple[TopLogprob, ...] = ()


@dataclass(frozen=True)
class GenerationChunk:
    """A piece of a generation stream. The last chunk of a stream has `finish_reason` set."""

    text: str
    tokens: tuple[TokenLogprob, ...] = ()
    finish_reason: FinishReason | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    queue_ms: float | None = None  # time the engine held the request before working on it, if known
    replica: str = ""  # the engine replica that produced it (Ray backend)
    verification: VerificationReport | None = None  # on the last chunk, when the request verified a draft


@dataclass(frozen=True)
class ServerTimings:
    queue_ms: float
    time_to_first_token_ms: float
    total_ms: float


@dataclass(frozen=True)
class CacheHint:
    cacheable: bool
    ttl_seconds: int


@dataclass(frozen=True)
class GenerationResult:
    """A whole generation as the cloud client assembles it from a stream."""

    request_id: str
    text: str
    tokens: tuple[TokenLogprob, ...]
    finish_reason: FinishReason
    model: str
    prompt_tokens: int
    completion_tokens: int
    timings: ServerTimings
    cache: CacheHint
    client_latency_ms: float = 0.0
    client_ttft_ms: float = 0.0
    replica: str = ""  # the cloud engine replica that served it, when the cloud runs several
    verification: VerificationReport | None = None  # when the request verified a draft


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    backend: str
    max_context_tokens: int
    max_output_tokens: int
    max_concurrent_requests: int
    max_top_logprobs: int
    server_version: str = ""
    experts: tuple[ExpertInfo, ...] = ()
    prompt_style: str = "few_shot_qa"  # how the server renders a bare question


@dataclass(frozen=True)
class ExpertInfo:
    """A memory expert the cloud serves: a LoRA adapter that recalls one fact table."""

    name: str
    domain: str
    facts: int = 0
    recall: float = 0.0
    merged_from: tuple[str, ...] = ()
    index_questions: tuple[str, ...] = ()  # one per fact, for routing by similarity


@dataclass(frozen=True)
class ReplicaStats:
    """One engine replica as it last reported itself."""

    replica: str
    healthy: bool
    engine_requests: int  # its engine's unfinished requests
    served_requests: int
    pid: int
    node: str


@dataclass
class BackendStats:
    """Live engine figures a backend reports."""

    unfinished_requests: int = 0
    healthy_replicas: int = 1
    replicas: tuple[ReplicaStats, ...] = ()
