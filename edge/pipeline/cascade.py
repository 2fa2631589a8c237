"""The cascade: cache -> decision -> local draft + confidence -> cloud, streaming and cancellable end to end.

`answer_stream` yields the answer's pieces as soon as they surely belong to the answer served (a cloud answer as
the cloud sends it, an edge answer once its confidence is decided), then the CascadeResult. Closing or cancelling
the stream stops the local generation and cancels the cloud RPC."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass

from edge.core.protocols import (
    AnswerCache,
    ConfidenceEstimator,
    Embedder,
    ExpertChoice,
    ExpertPolicy,
    LabelSink,
    LazyVector,
    LocalGenerator,
    RoutePolicy,
    RouterAdvice,
    StopRule,
    Uplink,
    UplinkDone,
    settle,
)
from edge.core.query import Query, QueryStyle
from edge.core.redaction import KEPT_LOCAL, PLACEHOLDER
from edge.core.relation import relation_text
from edge.pipeline.cache_audit import CacheHitAudits
from edge.pipeline.decision import NOMINAL_DEVICE, DeviceShift, Plan, decide
from edge.pipeline.fleet_context import shared_with_fleet
from edge.pipeline.guard import CoinPlan
from edge.pipeline.restore import Restorer
from edge.pipeline.result import AnswerDelta, AnswerEvent, CascadeResult
from edge.pipeline.shaping import DeltaShaper
from edge.pipeline.share import ShareTracker
from edge.pipeline.tally import Tally
from edge.pipeline.teacher import Teacher
from shared.config import CostConfig, EdgeConfig
from shared.logging_setup import request_id_var
from shared.types import DraftVerification, EdgeContext, GenerationRequest, VerifyMode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CascadeParts:
    """The implementations behind the cascade's Protocols; None switches a stage off."""

    generator: LocalGenerator
    estimator: ConfidenceEstimator
    uplink: Uplink
    cache: AnswerCache | None = None
    router: RoutePolicy | None = None
    embedder: Embedder | None = None
    experts: ExpertPolicy | None = None
    labels: LabelSink | None = None


class Cascade:
    def __init__(
        self,
        parts: CascadeParts,
        config: EdgeConfig,
        cost: CostConfig,
        device: Callable[[], DeviceShift] = lambda: NOMINAL_DEVICE,
    ) -> None:
        self.parts = parts
        self.config = config
        self.cost = cost
        self.device = device  # the current device shift (the daemon samples it; elsewhere nominal)
        self.style = QueryStyle(config.local.rendering, config.local.max_tokens)
        c = config.confidence
        self.share = ShareTracker(c.target_cloud_share, c.share_window, c.share_step)
        self.teacher = None if parts.labels is None else Teacher(parts.labels, parts.uplink, config)
        self.cache_audits = CacheHitAudits(parts.uplink, config.cache)
        self.verify = DraftVerification(VerifyMode(config.uplink.verify_draft), config.uplink.verify_alpha)

    @property
    def cloud_available(self) -> bool:
        return self.parts.uplink.available

    @property
    def edge_model(self) -> str:
        return self.parts.generator.model_name

    async def answer(self, query: Query) -> CascadeResult:
        """The whole answer: degraded on cloud trouble (never raising), InvalidRequest/Overloaded on bad input."""
        async with aclosing(self.answer_stream(query, live=False)) as events:
            async for event in events:
                if isinstance(event, CascadeResult):
                    return event
        raise RuntimeError("the cascade ended without a result")

    async def answer_stream(self, query: Query, live: bool = True) -> AsyncGenerator[AnswerEvent, None]:
        """Deltas, then the result. `live=False` sends no cloud deltas, which keeps a fallback to the edge
        possible until the cloud's last byte (with live deltas, only until its first)."""
        request_id_var.set(query.request_id)
        tally = Tally(query, self.parts.estimator.name, self.edge_model, self.cost)
        vector = LazyVector(self.parts.embedder, query.text)
        # A forced route is the caller's choice of side: "cloud" asks the cloud now, "edge" the local model.
        cache = self.parts.cache if query.policy.route == "auto" else None
        if cache is not None and (hit := await cache.lookup(query, vector)) is not None:
            if not query.privacy.found:  # an audit would send the question out
                self.cache_audits.served(cache, query, hit, lambda: self._request(query, None), vector)
            async for event in self._emit_whole(tally, lambda: tally.cache_hit(hit.answer, hit.model, hit.similarity)):
                yield event
            return

        route_vector = self.route_vector(query.text, vector)
        tally.plan = plan = self._guarded(query, await self.plan(query, route_vector))
        context = await self.context(query, vector) if plan.route != "cloud" else None
        if plan.route != "cloud":
            stop_rule = self._stop_rule(query, plan) if plan.early_escalation else None
            tally.draft = await self.parts.generator.generate(query, context, stop_rule)
            tally.score = self.parts.estimator.score(tally.draft.steps)
            keep, why = plan.verdict(tally.score, tally.draft.stopped_early)
            tally.reasons.append(why)
            self._count(query, keep, steered=not isinstance(plan, CoinPlan))
            if keep:
                if self.teacher is not None and not query.privacy.found:
                    self.teacher.kept(tally, route_vector, lambda: self._request(query, None))
                async for event in self._emit_whole(tally, tally.edge_answer):
                    yield event
                return

        if plan.route == "cloud":
            self._count(query, keep_local=False)
        async with aclosing(self._escalate_stream(query, tally, (vector, route_vector), live)) as events:
            async for event in events:
                yield event

    def route_text(self, text: str) -> str:
        """What the router compares: the question's relation (`edge.core.relation`), or the question itself."""
        return relation_text(text) if self.config.routing.relation_only else text

    def route_vector(self, text: str, vector: LazyVector) -> LazyVector:
        """The router's vector: `vector` itself unless the router compares relations (`route_text`)."""
        return LazyVector(self.parts.embedder, self.route_text(text)) if self.config.routing.relation_only else vector

    async def plan(self, query: Query, vector: LazyVector) -> Plan:
        """The decision for this query, before generating (`vector`: the router's): one call serves, calibrates
        and benchmarks."""
        if query.privacy.keep_local:  # never routed, never escalated, never a label (which would ask the cloud)
            return Plan("edge", self.config.confidence.threshold, None, 1.0, False, ("kept_local: personal data",))
        router, route = self.parts.router, query.policy.route
        advice = await router.advise(vector) if router is not None and route == "auto" else RouterAdvice(None)
        return decide(
            self.config.confidence.threshold,
            route=route,
            request_threshold=query.policy.threshold,
            device=self.device(),
            share_offset=self.share.offset,
            advice=advice,
            routing=self.config.routing if router is not None else None,
            early_escalation=self.config.confidence.early_escalation,
        )

    def _count(self, query: Query, keep_local: bool, steered: bool = True) -> None:
        """A decision of the policy (not one the request forced) counts toward the realized cloud share."""
        if query.decided_by_policy:
            self.share.observe(not keep_local, steered)

    def _guarded(self, query: Query, plan: Plan) -> Plan:
        """While the online guard holds the policy worse than a coin, a coin decides (`edge.pipeline.guard`)."""
        if self.teacher is None or not self.teacher.guard.fallback or not query.decided_by_policy:
            return plan
        report = self.share.report()
        return CoinPlan.drawn(plan, self.teacher.guard, report.target, report.realized)

    def _stop_rule(self, query: Query, plan: Plan) -> StopRule:
        """Early escalation: stop once even the best continuation of the draft would be escalated."""
        estimator, max_tokens = self.parts.estimator, query.sampling.max_tokens
        return lambda steps: plan.stops_early(estimator.upper_bound(steps, max_tokens))

    async def context(self, query: Query, vector: LazyVector) -> list[tuple[str, str]] | None:
        if self.parts.cache is None or not self.config.cache.as_context:
            return None
        return await self.parts.cache.context_for(query, vector)

    async def _emit_whole(self, tally: Tally, build: Callable[[], CascadeResult]) -> AsyncGenerator[AnswerEvent, None]:
        """An answer known in full: its pieces (from the draft's tokens when there is one), then the result."""
        tally.mark_first_chunk()
        result = build()
        shaper = DeltaShaper(tally.query.is_question)
        pieces = [s.text for s in tally.draft.steps] if result.served_by == "edge" and tally.draft else [result.answer]
        for piece in pieces:
            if text := shaper.feed(piece):
                yield AnswerDelta(text)
        yield result

    async def _escalate_stream(
        self, query: Query, tally: Tally, vectors: tuple[LazyVector, LazyVector], live: bool
    ) -> AsyncGenerator[AnswerEvent, None]:
        vector, route_vector = vectors  # the question's (cache, experts), the router's
        draft = tally.draft
        edge_context = None
        if draft is not None:
            await asyncio.to_thread(query.privacy.learn, draft.text)  # what the draft adds leaves redacted too
            edge_context = EdgeContext(draft.text, tally.score or 0.0, self.parts.estimator.name, self.edge_model)
            share = "off" if query.privacy.found else self.config.fleet.share  # an embedding of personal data
            edge_context = await shared_with_fleet(edge_context, share, self.parts.embedder, route_vector, draft)
        shaper, sent, done = DeltaShaper(query.is_question), [], None
        restorer = Restorer(query.privacy)  # the cloud's placeholders get their values back, on the device
        cloud_started = time.perf_counter()
        tally.expert = await self.expert(vector)
        request = self._request(query, edge_context, tally.expert)
        async with aclosing(self.parts.uplink.stream(request)) as events:
            async for event in events:
                if isinstance(event, UplinkDone):
                    done = restorer.done(event)
                elif live and (text := shaper.feed(restorer.feed(event.text))):
                    tally.mark_first_chunk()
                    sent.append(text)
                    yield AnswerDelta(text)
        if live and (text := shaper.feed(restorer.flush())):
            tally.mark_first_chunk()
            sent.append(text)
            yield AnswerDelta(text)
        tally.cloud_ms = (time.perf_counter() - cloud_started) * 1000
        assert done is not None
        tally.left_device = done.sent
        if (result := done.result) is not None:
            await self._remember(query, done, tally, vector)
            if self.teacher is not None and not query.privacy.found:
                await self.teacher.escalated(tally, result, route_vector)
            if live:
                yield tally.cloud_answer(result)
            else:
                async for answered in self._emit_whole(tally, lambda: tally.cloud_answer(result)):
                    yield answered
            return
        log.warning("answered degraded", extra={"reason": done.failure, "detail": done.detail})
        if sent:
            yield tally.broken_cloud_answer("".join(sent), done.failure or "cloud_error")
            return
        # Degraded: the edge answers with its own draft, completed if early escalation cut it short.
        context = await self.context(query, vector)
        if draft is None:
            draft = await self.parts.generator.generate(query, context)
        elif draft.stopped_early:
            draft = await self.parts.generator.complete(query, draft, context)
        tally.draft = draft
        tally.score = self.parts.estimator.score(draft.steps)
        async for answered in self._emit_whole(tally, lambda: tally.edge_answer(done.failure)):
            yield answered

    async def expert(self, vector: LazyVector) -> ExpertChoice | None:
        choice = await self.parts.experts.choose(vector) if self.parts.experts is not None else None
        if choice is not None:
            log.info("expert chosen", extra={"expert": choice.name or None, "similarity": choice.similarity})
        return choice

    def _request(
        self, query: Query, edge_context: EdgeContext | None, expert: ExpertChoice | None = None
    ) -> GenerationRequest:
        # The sampled tokens' log-probs at least, when the cloud's answer becomes a label: how sure it was.
        top_logprobs = query.top_logprobs if query.logprobs else (0 if self.teacher is not None else None)
        return query.escalation(edge_context, expert.name if expert else "", self.verify, top_logprobs)

    async def _remember(self, query: Query, done: UplinkDone, tally: Tally, vector: LazyVector) -> None:
        r = done.result
        # Nothing personal is stored, nor a re-asked redacted question: its placeholders mean nothing in a cache.
        private = query.privacy.found or PLACEHOLDER.search(query.text)
        if r is None or self.parts.cache is None or not r.cache.cacheable or private:
            return
        meta = {"edge_confidence": tally.score, "estimator": tally.estimator, "finish_reason": r.finish_reason.value}
        ttl = min(r.cache.ttl_seconds, self.config.cache.max_ttl_s)
        await self.parts.cache.store(query, answer=r.text, model=r.model, ttl_s=ttl, meta=meta, vector=vector)

    async def escalate(
        self, query: Query, cache_answer: bool = True, edge_context: EdgeContext | None = None
    ) -> UplinkDone:
        """Asks the cloud directly (never raises) and caches a cacheable answer: reconciliation, labeled runs
        (which pass `cache_answer=False`: a benchmark's answers must not become its own context, and the edge's
        draft, verified as the served cascade would have it verified)."""
        if query.privacy.keep_local:
            return UplinkDone(None, KEPT_LOCAL, "personal data under local_only", sent=False)
        vector = LazyVector(self.parts.embedder, query.text)
        expert = await self.expert(vector)
        async with aclosing(self.parts.uplink.stream(self._request(query, edge_context, expert))) as events:
            done = Restorer(query.privacy).done(await settle(events))
        if cache_answer:
            tally = Tally(query, self.parts.estimator.name, self.edge_model, self.cost)
            await self._remember(query, done, tally, vector)
        return done

    async def aclose(self) -> None:
        """Cancels the audits still running."""
        for audits in (self.teacher, self.cache_audits):
            if audits is not None:
                await audits.aclose()
