"""Audits of semantic cache hits: a few are re-asked of the cloud in the background, never delaying the app's answer,
and the cache learns from each (`AnswerCache.audited`: a disagreement tightens the entry). Exact hits need none."""

from __future__ import annotations

from collections.abc import Callable

from edge.core.protocols import AnswerCache, CacheHit, LazyVector, Uplink
from edge.core.query import Query
from edge.pipeline.audit import Auditor, AuditReport, AuditSampler
from shared.config import CacheConfig
from shared.types import GenerationRequest, GenerationResult


class CacheHitAudits:
    def __init__(self, uplink: Uplink, config: CacheConfig) -> None:
        self.auditor = Auditor(AuditSampler(config.audit_rate, config.audit_per_hour), uplink)

    def served(
        self,
        cache: AnswerCache,
        query: Query,
        hit: CacheHit,
        request: Callable[[], GenerationRequest],
        vector: LazyVector,
    ) -> None:
        """A hit `cache` gave the app; maybe audited (`request` builds the cloud's, only when sampled). Returns at
        once."""
        if hit.similarity is None:
            return

        async def learn(fresh: GenerationResult) -> None:
            await cache.audited(query, hit, fresh, vector)

        self.auditor.consider(request, learn)

    def report(self) -> AuditReport:
        return self.auditor.sampler.report()

    async def aclose(self) -> None:
        await self.auditor.aclose()
