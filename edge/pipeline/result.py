"""What the cascade returns: the answer and, grouped, who served it and why, token counts, timings and cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from shared.types import TokenLogprob

ServedBy = Literal["cache", "edge", "cloud"]


@dataclass(frozen=True)
class Provenance:
    served_by: ServedBy
    confidence: float | None  # the edge's log-prob score, when the edge generated
    estimator: str
    threshold: float  # effective, after the device shift
    reasons: tuple[str, ...] = ()  # every effect the decision composed, in order
    degraded_reason: str | None = None
    early_escalation: bool = False
    routed_before_generation: str | None = None  # "cloud" or "edge" when the router decided up front
    router_confidence: float | None = None
    cache_similarity: float | None = None  # a semantic cache hit's similarity (exact hits: None)
    edge_model: str = ""
    cloud_model: str | None = None
    cloud_replica: str | None = None  # the cloud engine replica that answered, when the cloud runs several
    expert: str | None = None  # the cloud memory expert the escalation named (None: the base model)
    expert_similarity: float | None = None  # the routed query's similarity to that expert's nearest fact
    draft_tokens: int | None = None  # an escalated draft the cloud verified: its length in the cloud's tokens
    verified_tokens: int | None = None  # of which the cloud kept (not generated again)
    verification: str | None = None  # why verification stopped

    @property
    def degraded(self) -> bool:
        return self.degraded_reason is not None


@dataclass(frozen=True)
class PrivacyReport:
    left_device: bool = False  # the request (its redacted form, under redact) was sent to the cloud
    redacted: tuple[str, ...] = ()  # entity types that left as placeholders
    kept_local: bool = False  # personal data under local_only: answered on the device only


@dataclass(frozen=True)
class TokenCounts:
    prompt: int = 0  # the prompt of the model that served (0 for a cache hit)
    edge: int = 0
    cloud_prompt: int = 0
    cloud_completion: int = 0


@dataclass(frozen=True)
class Timings:
    edge_ms: float = 0.0
    cloud_ms: float = 0.0
    total_ms: float = 0.0
    first_chunk_ms: float | None = None  # when the first piece of the answer was ready to send


@dataclass(frozen=True)
class CascadeResult:
    request_id: str
    answer: str
    finish_reason: str
    provenance: Provenance
    tokens: TokenCounts = field(default_factory=TokenCounts)
    timings: Timings = field(default_factory=Timings)
    cost: float = 0.0
    logprobs: tuple[TokenLogprob, ...] = ()  # per-token log-probs of the served answer, when known
    privacy: PrivacyReport = field(default_factory=PrivacyReport)

    @property
    def served_by(self) -> ServedBy:
        return self.provenance.served_by

    @property
    def degraded(self) -> bool:
        return self.provenance.degraded

    def report(self) -> dict:
        """Who served and why (every reason of the decision), token counts, timings and cost, as plain data."""
        return {
            "request_id": self.request_id,
            **asdict(self.provenance),
            "degraded": self.degraded,
            "finish_reason": self.finish_reason,
            "tokens": asdict(self.tokens),
            "timings": asdict(self.timings),
            "cost": self.cost,
            "privacy": asdict(self.privacy),
        }

    def summary(self) -> str:
        p, t, ms = self.provenance, self.tokens, self.timings
        conf = "-" if p.confidence is None else f"{p.confidence:.3f}"
        line = (
            f"[served_by={p.served_by} confidence={conf} ({p.estimator}, threshold {p.threshold:.2f}) "
            f"edge_tokens={t.edge} cloud_tokens={t.cloud_prompt}+{t.cloud_completion} "
            f"edge={ms.edge_ms:.0f}ms cloud={ms.cloud_ms:.0f}ms total={ms.total_ms:.0f}ms cost={self.cost:.6f}"
        )
        if p.early_escalation:
            line += " early_escalation"
        if p.degraded:
            line += f" DEGRADED({p.degraded_reason})"
        return line + "]"


@dataclass(frozen=True)
class AnswerDelta:
    """A piece of the answer, sent as soon as the cascade is sure it belongs to the answer served."""

    text: str


AnswerEvent = AnswerDelta | CascadeResult  # a stream of deltas, then the result
