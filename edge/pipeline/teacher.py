"""The cloud's answers as labels of the edge's drafts: agreement on escalations, background audits of kept answers,
each stored for the router and filed with the online guard under the policy's own decision."""

from __future__ import annotations

from collections.abc import Callable

from edge.core.protocols import AGREEMENT, AUDIT, Draft, LabelSink, LazyVector, Uplink
from edge.core.query import Query
from edge.pipeline.audit import Auditor, AuditSampler
from edge.pipeline.guard import CoinPlan, PolicyGuard, estimated_gain
from edge.pipeline.tally import Tally
from shared.answers import agreement_labels, draft_agrees, token_confidence
from shared.config import EdgeConfig
from shared.types import GenerationRequest, GenerationResult


class Teacher:
    def __init__(self, labels: LabelSink, uplink: Uplink, config: EdgeConfig) -> None:
        self.labels = labels
        self.guard = PolicyGuard(config.guard)
        self.auditor = Auditor(AuditSampler(config.routing.audit_rate, config.routing.audit_per_hour), uplink)

    async def escalated(self, tally: Tally, cloud: GenerationResult, vector: LazyVector) -> None:
        """A draft the cloud answered instead: did the edge say what the cloud said? (policy decisions only)"""
        if tally.draft is not None and tally.plan is not None and tally.query.policy.route == "auto":
            policy_escalated = _policy_escalated(tally, kept=False)
            await self._label(tally.query, tally.draft, cloud, vector, AGREEMENT, policy_escalated)

    def kept(self, tally: Tally, vector: LazyVector, request: Callable[[], GenerationRequest]) -> None:
        """A draft served to the app: maybe audited in the background (`request` builds the cloud's, only when
        sampled); returns at once. Forced routes are not the policy's and are not audited."""
        query, draft, plan = tally.query, tally.draft, tally.plan
        if draft is None or plan is None or query.policy.route != "auto":
            return
        policy_escalated = _policy_escalated(tally, kept=True)

        async def label(cloud: GenerationResult) -> None:
            await self._label(query, draft, cloud, vector, AUDIT, policy_escalated)

        self.auditor.consider(request, label, self.guard.audit_rate(self.auditor.sampler.rate))

    async def _label(
        self,
        query: Query,
        draft: Draft,
        cloud: GenerationResult,
        vector: LazyVector,
        source: str,
        policy_escalated: bool | None,
    ) -> None:
        agrees = draft_agrees(draft.text, cloud.text, complete=not draft.stopped_early)
        if agrees is None:
            return
        edge_sure = token_confidence([s.logprob for s in draft.steps])
        cloud_sure = token_confidence([t.logprob for t in cloud.tokens])
        if policy_escalated is not None:
            self.guard.observe(policy_escalated, estimated_gain(agrees, edge_sure, cloud_sure))
        _, cloud_side = agreement_labels(agrees, cloud_sure)
        await self.labels.record(
            query.text, vector, edge_correct=agrees, source=source, steps=draft.steps, cloud_correct=cloud_side
        )

    async def aclose(self) -> None:
        await self.auditor.aclose()


def _policy_escalated(tally: Tally, kept: bool) -> bool | None:
    """What the policy decided for this draft; None when the request set its own threshold (not the policy's), or
    the coin drafted a question the policy sends to the cloud before drafting (never labeled while the policy
    serves: the guard compares the same kinds of decision in both modes)."""
    plan = tally.plan
    if plan is None or tally.query.policy.threshold is not None:
        return None
    if isinstance(plan, CoinPlan) and plan.policy.route == "cloud":
        return None
    return not plan.policy_keeps(tally.score or 0.0, kept)
