"""One app's share of the edge, as callers see it: answer, answer_stream, feedback and status.

Its cache, outcomes and router live in that app's own SQLite files; the model, the embedder and the link to
the cloud are the agent's and shared. The daemon's routes, calibrate and the benchmarks go through this class
only; `labeled` is the narrow extra that labeled runs need (drafts, direct cloud answers, embeddings, labels).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass

import numpy as np

from edge.cache.answer_cache import LayeredAnswerCache
from edge.cache.hit_bound import HitBoundReport
from edge.cache.store import SqliteCache
from edge.core.protocols import (
    FEEDBACK,
    ConfidenceEstimator,
    Draft,
    Embedder,
    ExpertChoice,
    LazyVector,
    RouterAdvice,
    UplinkDone,
)
from edge.core.query import Query, QueryStyle
from edge.pipeline.audit import AuditReport
from edge.pipeline.cascade import Cascade
from edge.pipeline.decision import effective_threshold
from edge.pipeline.guard import GuardReport
from edge.pipeline.result import AnswerEvent, CascadeResult
from edge.pipeline.share import ShareReport
from edge.privacy.egress import EgressLog, EgressRecord, EgressTotals
from edge.privacy.gate import PrivacyGate
from edge.routing.labels import OutcomeLabels
from edge.routing.outcome_store import OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from shared.types import DraftVerification, EdgeContext


@dataclass(frozen=True)
class NamespaceParts:
    """What one namespace is made of; None switches a stage off."""

    cascade: Cascade
    outcomes: OutcomeStore
    store: SqliteCache | None
    cache: LayeredAnswerCache | None
    router: KnnRoutePolicy | None
    privacy: PrivacyGate
    egress: EgressLog
    labels: OutcomeLabels | None = None


@dataclass(frozen=True)
class NamespaceStatus:
    name: str
    cache_entries: int | None  # None: the cache is off
    share: ShareReport  # this app's realized cloud share and its controller
    effective_threshold: float  # the configured threshold after the device shift and this app's controller
    router_labels: int | None  # labeled questions this app's router consults; None: the router is off
    learned: dict[str, dict[str, int]]  # labels observed since start (agreement, audit), per source
    audits: AuditReport | None  # None: no labels are learned, so nothing is audited
    guard: GuardReport | None  # the online guard's judgement of the policy (None: no labels, no guard)
    cache_bound: HitBoundReport | None = None  # semantic hits' threshold and audited error (None: no cache)
    cache_audits: AuditReport | None = None  # audits of semantic hits (None: no cache)
    egress: EgressTotals | None = None  # what left the device for this app, since its egress log began


@dataclass(frozen=True)
class FeedbackRecorded:
    served_by: str
    outcomes: int  # labeled outcomes this app's router now learns from (its own and the calibration's)


class LabeledRuns:
    """What `tandem-edge calibrate` and the benchmarks need beyond answering: every call is the served one."""

    def __init__(self, parts: NamespaceParts, embedder: Embedder | None) -> None:
        self._parts = parts
        self.embedder = embedder

    async def route_vectors(self, questions: Sequence[str]) -> np.ndarray | None:
        """The questions as the router compares them (their relation, when configured); None without an embedder."""
        if self.embedder is None:
            return None
        return await self.embedder.embed_many([self._parts.cascade.route_text(q) for q in questions])

    async def learn(self, rows: list[tuple[str, np.ndarray, bool, bool]], source: str = "calibration") -> None:
        """Both-sided labels for the router, read by the daemon that serves this data dir."""
        await asyncio.to_thread(self._parts.outcomes.replace_labeled, rows, source)
        if self._parts.router is not None:
            await asyncio.to_thread(self._parts.router.refresh)

    def advice(self, vectors: np.ndarray) -> list[RouterAdvice] | None:
        """The served router's advice for each row; None when the router is off."""
        return None if self._parts.router is None else self._parts.router.advice_rows(vectors)

    async def draft(self, query: Query, context: list[tuple[str, str]] | None = None) -> Draft:
        """The edge's whole answer with every per-token signal: no cache, no early stop, no cloud."""
        return await self._parts.cascade.parts.generator.generate(query, context)

    async def expert_for(self, text: str) -> ExpertChoice | None:
        return await self._parts.cascade.expert(LazyVector(self.embedder, text))

    async def seed_cache(self, query: Query, answer: str, model: str, ttl_s: float = 3600) -> None:
        """Puts an answer in this app's cache, as an escalation would (benchmarks of cache hits)."""
        if self._parts.cache is not None:
            vector = LazyVector(self.embedder, query.text)
            await self._parts.cache.store(query, answer=answer, model=model, ttl_s=ttl_s, meta={}, vector=vector)


class AppNamespace:
    def __init__(self, name: str, parts: NamespaceParts, embedder: Embedder | None) -> None:
        self.name = name
        self._parts = parts
        self._embedder = embedder
        self.labeled = LabeledRuns(parts, embedder)

    @property
    def style(self) -> QueryStyle:
        return self._parts.cascade.style

    @property
    def estimator(self) -> ConfidenceEstimator:
        """What this namespace scores its drafts with (the configured estimator)."""
        return self._parts.cascade.parts.estimator

    @property
    def verify(self) -> DraftVerification:
        """How this namespace's escalations with a draft ask the cloud to verify it ([edge.uplink])."""
        return self._parts.cascade.verify

    @property
    def edge_model(self) -> str:
        return self._parts.cascade.edge_model

    @property
    def cloud_available(self) -> bool:
        return self._parts.cascade.cloud_available

    async def private(self, query: Query) -> Query:
        """`query` as this app's privacy policy sees it (`query.privacy`): what is stored or sent of it follows.
        Every way in below checks it; callers that store the query themselves call it first."""
        return await self._parts.privacy.scan(query)

    async def answer(self, query: Query) -> CascadeResult:
        return await self._parts.cascade.answer(await self.private(query))

    async def answer_stream(self, query: Query, live: bool = True) -> AsyncGenerator[AnswerEvent, None]:
        query = await self.private(query)
        async with aclosing(self._parts.cascade.answer_stream(query, live)) as events:
            async for event in events:
                yield event

    async def escalate(
        self, query: Query, cache_answer: bool = True, edge_context: EdgeContext | None = None
    ) -> UplinkDone:
        """Asks the cloud directly (the reconciler, labeled runs); never raises."""
        return await self._parts.cascade.escalate(await self.private(query), cache_answer, edge_context)

    def egress(self, since: float, limit: int) -> list[EgressRecord]:
        """What left the device for this app after `since` (blocking: call it in a thread)."""
        return self._parts.egress.since(since, limit)

    @property
    def egress_totals(self) -> EgressTotals:
        return self._parts.egress.totals()

    async def context_for(self, query: Query) -> list[tuple[str, str]] | None:
        return await self._parts.cascade.context(query, LazyVector(self._embedder, query.text))

    def remember_served(self, query: Query, result: CascadeResult) -> None:
        """So that feedback on this answer can find its question and side (blocking: call it in a thread). Not an
        answer to personal data: feedback would make it a label, and labels are shared with the fleet."""
        if query.privacy.found:
            return
        self._parts.outcomes.remember_served(
            response_id=query.request_id, question=query.text, served_by=result.served_by, embedding=None
        )

    async def feedback(self, response_id: str, correct: bool) -> FeedbackRecorded | None:
        """Labels the side that served `response_id` (this app's answers only); None when it is unknown here.

        Raises LookupError when no embedder runs (router and semantic cache both off): a label needs a vector.
        """
        outcomes = self._parts.outcomes
        served = await asyncio.to_thread(outcomes.served, response_id)
        if served is None:
            return None
        if self._embedder is None:
            raise LookupError("feedback needs the router or the semantic cache enabled")
        vector = await self._embedder.embed(self._parts.cascade.route_text(served.question))
        edge_side = served.served_by == "edge"  # cache hits and escalations are cloud answers
        await asyncio.to_thread(
            outcomes.add,
            question=served.question,
            embedding=vector,
            edge_correct=correct if edge_side else None,
            cloud_correct=None if edge_side else correct,
            source=FEEDBACK,
        )
        if self._parts.router is not None:
            await asyncio.to_thread(self._parts.router.refresh)
        return FeedbackRecorded(served.served_by, await asyncio.to_thread(outcomes.count))

    def status(self) -> NamespaceStatus:
        """One snapshot (reads SQLite: call it in a thread from async code)."""
        cascade, router, store = self._parts.cascade, self._parts.router, self._parts.store
        share = cascade.share.report()
        threshold = effective_threshold(cascade.config.confidence.threshold, cascade.device(), share.offset)
        entries = store.stats().entries if store is not None else None
        learned = self._parts.labels.counts() if self._parts.labels is not None else {}
        router_labels = router.labels if router is not None else None
        teacher = cascade.teacher
        audits = teacher.auditor.sampler.report() if teacher is not None else None
        guard = teacher.guard.report() if teacher is not None else None
        bound = self._parts.cache.bound() if self._parts.cache is not None else None
        hit_audits = cascade.cache_audits.report() if self._parts.cache is not None else None
        return NamespaceStatus(
            self.name,
            entries,
            share,
            threshold,
            router_labels,
            learned,
            audits,
            guard,
            bound,
            hit_audits,
            self.egress_totals,
        )

    async def close(self) -> None:
        """Cancels this app's background work (audits)."""
        await self._parts.cascade.aclose()
