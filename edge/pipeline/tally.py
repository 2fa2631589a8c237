"""Accumulates what one request did (draft, cloud call, plan) and turns it into a CascadeResult."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from edge.core.protocols import Draft, ExpertChoice
from edge.core.query import Query
from edge.pipeline.decision import Plan
from edge.pipeline.result import CascadeResult, PrivacyReport, Provenance, ServedBy, Timings, TokenCounts
from edge.pipeline.shaping import shape_answer
from shared.config import CostConfig
from shared.cost import answer_cost
from shared.types import GenerationResult, TokenLogprob, VerificationReport

log = logging.getLogger(__name__)


@dataclass
class Tally:
    query: Query
    estimator: str
    edge_model: str
    cost: CostConfig
    started: float = field(default_factory=time.perf_counter)
    plan: Plan | None = None
    draft: Draft | None = None
    score: float | None = None
    reasons: list[str] = field(default_factory=list)
    cloud_ms: float = 0.0
    first_chunk_at: float | None = None
    expert: ExpertChoice | None = None
    left_device: bool = False

    def mark_first_chunk(self) -> None:
        if self.first_chunk_at is None:
            self.first_chunk_at = time.perf_counter()

    def cache_hit(self, answer: str, model: str, similarity: float | None) -> CascadeResult:
        self.reasons.append("exact cache hit" if similarity is None else f"semantic cache hit ({similarity:.3f})")
        return self._finish(answer, "cache", "stop", cloud_model=model, cache_similarity=similarity)

    def edge_answer(self, degraded_reason: str | None = None) -> CascadeResult:
        assert self.draft is not None
        steps = self.draft.steps
        last = steps[-1].finish_reason if steps else None
        tokens = tuple(TokenLogprob(s.token_id, s.token, s.logprob, s.top) for s in steps)
        return self._finish(
            self.draft.text, "edge", last.value if last else "length", degraded_reason=degraded_reason, logprobs=tokens
        )

    def cloud_answer(self, r: GenerationResult) -> CascadeResult:
        return self._finish(
            r.text,
            "cloud",
            r.finish_reason.value,
            cloud_model=r.model,
            cloud_replica=r.replica or None,
            cloud=(r.prompt_tokens, r.completion_tokens),
            logprobs=r.tokens,
            verification=r.verification,
        )

    def broken_cloud_answer(self, partial: str, reason: str) -> CascadeResult:
        """The cloud failed after part of its answer was already sent: that part stands, marked degraded."""
        return self._finish(partial, "cloud", "abort", degraded_reason=reason)

    def _privacy(self) -> PrivacyReport:
        found = self.query.privacy
        redacted = found.kinds if self.left_device and found.redacts else ()
        return PrivacyReport(self.left_device, redacted, found.keep_local)

    def _finish(
        self,
        answer: str,
        served_by: ServedBy,
        finish: str,
        *,
        degraded_reason: str | None = None,
        cloud_model: str | None = None,
        cloud_replica: str | None = None,
        cache_similarity: float | None = None,
        cloud: tuple[int, int] = (0, 0),
        logprobs: tuple[TokenLogprob, ...] = (),
        verification: VerificationReport | None = None,
    ) -> CascadeResult:
        plan, draft = self.plan, self.draft
        if degraded_reason is not None:
            self.reasons.append(f"degraded: {degraded_reason}")
        now = time.perf_counter()
        edge_s = draft.seconds if draft else 0.0
        provenance = Provenance(
            served_by=served_by,
            confidence=self.score,
            estimator=self.estimator,
            threshold=plan.threshold if plan else (self.query.policy.threshold or 0.0),
            reasons=(*(plan.reasons if plan else ()), *self.reasons),
            degraded_reason=degraded_reason,
            early_escalation=bool(draft and draft.stopped_early),
            routed_before_generation=plan.route
            if plan and plan.router_confidence is not None and plan.route != "auto"
            else None,
            router_confidence=plan.router_confidence if plan else None,
            cache_similarity=cache_similarity,
            edge_model=self.edge_model,
            cloud_model=cloud_model,
            cloud_replica=cloud_replica,
            expert=self.expert.name or None if self.expert else None,
            expert_similarity=self.expert.similarity if self.expert else None,
            draft_tokens=verification.draft_tokens if verification else None,
            verified_tokens=verification.accepted_tokens if verification else None,
            verification=verification.stopped if verification else None,
        )
        result = CascadeResult(
            request_id=self.query.request_id,
            answer=shape_answer(answer, self.query.is_question),
            finish_reason=finish,
            provenance=provenance,
            tokens=TokenCounts(
                prompt=cloud[0] if served_by == "cloud" else (draft.prompt_tokens if draft else 0),
                edge=len(draft.steps) if draft else 0,
                cloud_prompt=cloud[0],
                cloud_completion=cloud[1],
            ),
            timings=Timings(
                edge_ms=edge_s * 1000,
                cloud_ms=self.cloud_ms,
                total_ms=(now - self.started) * 1000,
                first_chunk_ms=None if self.first_chunk_at is None else (self.first_chunk_at - self.started) * 1000,
            ),
            cost=answer_cost(self.cost, edge_s, *cloud),
            logprobs=logprobs,
            privacy=self._privacy(),
        )
        log.info(
            "answered",
            extra={
                "served_by": served_by,
                "confidence": self.score,
                "degraded": result.degraded,
                "total_ms": round(result.timings.total_ms, 1),
            },
        )
        return result
