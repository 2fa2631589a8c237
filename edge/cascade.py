"""The cascade: cache -> local model + confidence -> cloud, with early escalation and graceful degradation."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from edge.cache import CacheStore, cache_key, normalize_text
from edge.confidence import ConfidenceEstimator
from edge.escalation import CloudEscalator, CloudOutcome
from edge.routing import RouterGate
from edge.semantic_cache import AsyncEmbedder, SemanticMatcher
from shared.config import CostConfig, EdgeConfig
from shared.cost import answer_cost
from shared.errors import InvalidRequest, Overloaded
from shared.llama_runtime import LlamaCppRunner, StepToken
from shared.logging_setup import request_id_var
from shared.prompts import QA_STOP, qa_prompt
from shared.types import ChatMessage, EdgeContext, GenerationRequest, SamplingParams, TokenLogprob

log = logging.getLogger(__name__)

ServedBy = Literal["cache", "edge", "cloud"]


@dataclass(frozen=True)
class Policy:
    """Per-request overrides of the configured policy."""

    route: Literal["auto", "edge", "cloud"] = "auto"
    threshold: float | None = None


@dataclass(frozen=True)
class Query:
    """One input: a bare question (prompted per `prompt_style`), a raw prompt (used as is) or a conversation."""

    question: str = ""
    prompt: str | None = None
    messages: tuple[ChatMessage, ...] | None = None
    max_tokens: int | None = None
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    policy: Policy = field(default_factory=Policy)
    request_id: str = ""
    logprobs: bool = False  # ask the cloud for per-token log-probs too (the edge always has them)


@dataclass(frozen=True)
class CascadeResult:
    request_id: str
    answer: str
    served_by: ServedBy
    confidence: float | None  # the edge's score, when the edge generated
    estimator: str
    threshold: float
    degraded: bool
    degraded_reason: str | None
    early_escalation: bool
    prompt_tokens: int  # prompt size for the model that served (0 for a cache hit)
    edge_tokens: int
    cloud_prompt_tokens: int
    cloud_completion_tokens: int
    edge_ms: float
    cloud_ms: float
    total_ms: float
    cost: float
    cloud_model: str | None
    finish_reason: str
    tokens: tuple[TokenLogprob, ...] = ()  # per-token log-probs of the served answer, when known
    cache_similarity: float | None = None  # set for a semantic cache hit (1.0 is never reported: exact hits)
    router_confidence: float | None = None  # stay-local score from labeled neighbours, when the router spoke
    routed_before_generation: str | None = None  # "cloud" or "edge" when the router decided up front

    def provenance(self) -> str:
        conf = "-" if self.confidence is None else f"{self.confidence:.3f}"
        line = (
            f"[served_by={self.served_by} confidence={conf} ({self.estimator}, threshold {self.threshold:.2f}) "
            f"edge_tokens={self.edge_tokens} cloud_tokens={self.cloud_prompt_tokens}+{self.cloud_completion_tokens} "
            f"edge={self.edge_ms:.0f}ms cloud={self.cloud_ms:.0f}ms total={self.total_ms:.0f}ms cost={self.cost:.6f}"
        )
        if self.early_escalation:
            line += " early_escalation"
        if self.degraded:
            line += f" DEGRADED({self.degraded_reason})"
        return line + "]"


@dataclass
class Draft:
    """A local generation: its steps carry every signal the confidence estimators read."""

    steps: list[StepToken]
    seconds: float
    stopped_early: bool
    prompt_tokens: int

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.steps)


class Cascade:
    def __init__(
        self,
        runner: LlamaCppRunner,
        estimator: ConfidenceEstimator,
        escalator: CloudEscalator,
        cache: CacheStore | None,
        config: EdgeConfig,
        cost: CostConfig,
        embedder: AsyncEmbedder | None = None,
        semantic: SemanticMatcher | None = None,
        routing: RouterGate | None = None,
    ) -> None:
        self.runner = runner
        self.estimator = estimator
        self.escalator = escalator
        self.cache = cache
        self.config = config
        self.cost = cost
        self.edge_model = runner.model_path.stem
        self.local_waiting = 0  # local generations queued or running on the single model context
        self.embedder = embedder
        self.semantic = semantic
        self.routing = routing

    def sampling_for(self, query: Query) -> SamplingParams:
        stop = (
            query.stop
            if query.stop is not None
            else (QA_STOP if query.messages is None and self.config.prompt_style == "few_shot_qa" else ())
        )
        return SamplingParams(
            max_tokens=query.max_tokens or self.config.max_tokens,
            temperature=query.temperature,
            top_p=query.top_p,
            stop=stop,
            seed=query.seed,
        )

    def prompt_text(self, query: Query) -> str:
        """Exactly what the models see for this query (a rendered prompt, or the messages as JSON)."""
        prompt, messages = self._prompt(query)
        return prompt if prompt is not None else json.dumps([[m.role, m.content] for m in messages or ()])

    def _params_key(self, query: Query) -> str:
        """Everything but the text that changes an answer: a semantic hit must match it exactly."""
        return cache_key("", self.sampling_for(query), self.config.prompt_style)

    def cache_key_for(self, query: Query) -> str:
        return cache_key(self.query_text(query), self.sampling_for(query), self.config.prompt_style)

    def query_text(self, query: Query) -> str:
        """The text that identifies a query: what caches, embeddings and feedback refer to."""
        if query.messages is not None:
            return "\n".join(f"{m.role}: {m.content}" for m in query.messages)
        return f"prompt: {query.prompt}" if query.prompt is not None else query.question

    def _prompt(
        self, query: Query, context: list[tuple[str, str]] | None = None
    ) -> tuple[str | None, tuple[ChatMessage, ...] | None]:
        """(prompt, messages): exactly one is set. `context` (edge only) adds worked examples to a question."""
        if query.messages is not None:
            return None, query.messages
        if query.prompt is not None:
            return query.prompt, None
        if self.config.prompt_style == "chat":
            return None, (ChatMessage("user", query.question.strip()),)
        return qa_prompt(query.question, context), None

    def validate(self, query: Query) -> None:
        if query.messages is not None:
            if not query.messages:
                raise InvalidRequest("messages is empty")
        elif query.prompt is not None:
            if not query.prompt.strip():
                raise InvalidRequest("the prompt is empty")
        elif not query.question.strip():
            raise InvalidRequest("the question is empty")
        if query.max_tokens is not None and query.max_tokens < 1:
            raise InvalidRequest(f"max_tokens must be at least 1 (got {query.max_tokens})")

    async def answer(self, query: Query) -> CascadeResult:
        """Never raises for cloud trouble (degraded instead); raises InvalidRequest or Overloaded for bad input."""
        result = await self._answer(query)
        if query.prompt is None:  # a question's answer stands alone; a raw completion keeps its leading space
            result = replace(result, answer=result.answer.strip())
        return result

    async def _answer(self, query: Query) -> CascadeResult:
        started = time.perf_counter()
        request_id = query.request_id or uuid.uuid4().hex
        request_id_var.set(request_id)
        self.validate(query)
        sampling = self.sampling_for(query)
        threshold = query.policy.threshold if query.policy.threshold is not None else self.config.threshold
        key = self.cache_key_for(query)

        if self.cache is not None and query.policy.route != "edge":
            hit = await asyncio.to_thread(self.cache.get, key)
            if hit is not None:
                return self._result(
                    request_id, started, hit.answer, "cache", threshold, finish="stop", cloud_model=hit.model
                )

        # Only after an exact miss: one embedding serves the semantic cache and the router.
        route = query.policy.route
        needs_vector = (
            (self.semantic is not None and route != "edge")
            or (self.routing is not None and route == "auto")
            or (self.semantic is not None and self.config.cache_as_context and route != "cloud")
        )
        vector = await self.embedder.embed(self.query_text(query)) if needs_vector and self.embedder else None
        if vector is not None and self.semantic is not None and query.policy.route != "edge":
            hit, similarity = await self.semantic.lookup(self.query_text(query), self._params_key(query), vector)
            if hit is not None:
                result = self._result(
                    request_id, started, hit.answer, "cache", threshold, finish="stop", cloud_model=hit.model
                )
                return replace(result, cache_similarity=similarity)

        route, lp_threshold, decision = query.policy.route, threshold, None
        if vector is not None and self.routing is not None and route == "auto":
            decision = self.routing.decide(vector)
            route = decision.route
            lp_threshold = decision.threshold_for_logprob(threshold, self.config.router_weight)
        result = await self._generate_or_escalate(
            query, request_id, started, sampling, route, threshold, lp_threshold, vector
        )
        if decision is None:
            return result
        return replace(
            result,
            router_confidence=decision.confidence,
            routed_before_generation=None if decision.route == "auto" else decision.route,
        )

    async def _generate_or_escalate(
        self,
        query: Query,
        request_id: str,
        started: float,
        sampling: SamplingParams,
        route: str,
        threshold: float,
        lp_threshold: float,
        vector: np.ndarray | None,
    ) -> CascadeResult:
        context = None
        if self.config.cache_as_context and self.semantic is not None and vector is not None and route != "cloud":
            context = await self.semantic.neighbours(
                vector, self.config.context_pairs, self.config.context_min_similarity
            )
        prompt_ids = await self._prompt_ids(query, sampling, context)
        draft: Draft | None = None
        if route != "cloud":
            early = self.config.early_escalation and route == "auto"
            draft = await self._generate(prompt_ids, sampling, lp_threshold if early else None)
            score = self.estimator.score(draft.steps)
            if route == "edge" or (score >= lp_threshold and not draft.stopped_early):
                return self._edge_result(request_id, started, draft, score, threshold)

        edge_context = None
        if draft is not None:
            edge_context = EdgeContext(draft.text, score, self.estimator.name, self.edge_model)
        cloud_started = time.perf_counter()
        outcome = await self.escalate(query, request_id, edge_context, vector)
        cloud_ms = (time.perf_counter() - cloud_started) * 1000
        if outcome.result is not None:
            r = outcome.result
            return self._result(
                request_id,
                started,
                r.text,
                "cloud",
                threshold,
                finish=r.finish_reason.value,
                draft=draft,
                confidence=edge_context.confidence if edge_context else None,
                cloud_ms=cloud_ms,
                cloud_tokens=(r.prompt_tokens, r.completion_tokens),
                cloud_model=r.model,
                tokens=r.tokens,
            )

        # Degraded: the edge answers with its own draft, completed if early escalation cut it short.
        if draft is None or draft.stopped_early:
            draft = await self._complete(prompt_ids, sampling, draft)
        result = self._edge_result(
            request_id,
            started,
            draft,
            self.estimator.score(draft.steps),
            threshold,
            degraded_reason=outcome.failure,
            cloud_ms=cloud_ms,
        )
        log.warning("answered degraded", extra={"reason": outcome.failure, "detail": outcome.detail})
        return result

    async def _prompt_ids(
        self, query: Query, sampling: SamplingParams, context: list[tuple[str, str]] | None = None
    ) -> list[int]:
        prompt, messages = self._prompt(query, context)
        prompt_ids = await asyncio.to_thread(
            self.runner.tokenize_chat if messages is not None else self.runner.tokenize,
            messages if messages is not None else prompt,
        )
        if len(prompt_ids) + sampling.max_tokens > self.runner.n_ctx:
            raise InvalidRequest(
                f"the input has {len(prompt_ids)} tokens; with max_tokens={sampling.max_tokens} it exceeds "
                f"the edge context of {self.runner.n_ctx} tokens"
            )
        return prompt_ids

    async def local_draft(self, query: Query) -> Draft:
        """The edge's whole answer with every per-token signal: no cache, no early stop, no cloud."""
        self.validate(query)
        sampling = self.sampling_for(query)
        return await self._generate(await self._prompt_ids(query, sampling), sampling, None)

    async def escalate(
        self, query: Query, request_id: str, edge_context: EdgeContext | None = None, vector: np.ndarray | None = None
    ) -> CloudOutcome:
        """Asks the cloud (never raises) and caches a cacheable answer."""
        sampling = self.sampling_for(query)
        prompt, messages = self._prompt(query)
        request = GenerationRequest(
            request_id,
            sampling,
            prompt=prompt,
            messages=messages,
            top_logprobs=0 if query.logprobs else None,
            edge_context=edge_context,
        )
        outcome = await self.escalator.ask(request)
        r = outcome.result
        if r is not None and self.cache is not None and r.cache.cacheable:
            confidence = edge_context.confidence if edge_context else None
            meta = {
                "edge_confidence": confidence,
                "estimator": self.estimator.name,
                "finish_reason": r.finish_reason.value,
            }
            ttl = min(r.cache.ttl_seconds, self.config.cache_max_ttl_s)
            await self.store_answer(query, r.text, r.model, ttl, confidence, meta, vector)
        return outcome

    async def store_answer(
        self,
        query: Query,
        answer: str,
        model: str,
        ttl_s: float,
        confidence: float | None = None,
        meta: dict | None = None,
        vector: np.ndarray | None = None,
    ) -> None:
        """Caches an answer for exact and (with a semantic matcher) paraphrase lookups."""
        if self.cache is None:
            return
        key, text = self.cache_key_for(query), self.query_text(query)
        meta = {**(meta or {}), "question": text, "params": self._params_key(query)}
        embedding = None
        if self.semantic is not None and self.embedder is not None:
            embedding = vector if vector is not None else await self.embedder.embed(text)
            self.semantic.remember(key, embedding)
        await asyncio.to_thread(
            self.cache.put, key, normalize_text(text), answer, model, confidence, meta, ttl_s, embedding
        )

    async def _generate(self, prompt_ids: list[int], sampling: SamplingParams, threshold: float | None) -> Draft:
        if self.local_waiting >= self.config.max_local_queue:
            raise Overloaded(f"{self.local_waiting} local generations are already queued; retry later")
        self.local_waiting += 1
        try:
            return await self._generate_admitted(prompt_ids, sampling, threshold)
        finally:
            self.local_waiting -= 1

    async def _generate_admitted(
        self, prompt_ids: list[int], sampling: SamplingParams, threshold: float | None
    ) -> Draft:
        started = time.perf_counter()
        steps: list[StepToken] = []
        stopped_early = False
        async with aclosing(self.runner.astream(prompt_ids, sampling)) as stream:
            async for step in stream:
                steps.append(step)
                if (
                    threshold is not None
                    and step.finish_reason is None
                    and self.estimator.upper_bound(steps, sampling.max_tokens) < threshold
                ):
                    stopped_early = True
                    break
        return Draft(steps, time.perf_counter() - started, stopped_early, len(prompt_ids))

    async def _complete(self, prompt_ids: list[int], sampling: SamplingParams, draft: Draft | None) -> Draft:
        """Finishes a draft cut short by early escalation (the KV cache still holds its prefix)."""
        done = draft.steps if draft else []
        rest = SamplingParams(
            max_tokens=max(1, sampling.max_tokens - len(done)),
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            stop=sampling.stop,
            seed=sampling.seed,
        )
        more = await self._generate(prompt_ids + [s.token_id for s in done], rest, None)
        # Keep the flag: the report should still say that escalation started early.
        return Draft(
            done + more.steps,
            (draft.seconds if draft else 0.0) + more.seconds,
            bool(draft and draft.stopped_early),
            len(prompt_ids),
        )

    def _edge_result(
        self,
        request_id: str,
        started: float,
        draft: Draft,
        score: float,
        threshold: float,
        degraded_reason: str | None = None,
        cloud_ms: float = 0.0,
    ) -> CascadeResult:
        last = draft.steps[-1].finish_reason if draft.steps else None
        return self._result(
            request_id,
            started,
            draft.text,
            "edge",
            threshold,
            finish=(last.value if last else "length"),
            draft=draft,
            confidence=score,
            degraded_reason=degraded_reason,
            cloud_ms=cloud_ms,
            tokens=tuple(TokenLogprob(s.token_id, s.token, s.logprob) for s in draft.steps),
        )

    def _result(
        self,
        request_id: str,
        started: float,
        answer: str,
        served_by: ServedBy,
        threshold: float,
        *,
        finish: str,
        draft: Draft | None = None,
        confidence: float | None = None,
        degraded_reason: str | None = None,
        cloud_ms: float = 0.0,
        cloud_tokens: tuple[int, int] = (0, 0),
        cloud_model: str | None = None,
        tokens: tuple[TokenLogprob, ...] = (),
    ) -> CascadeResult:
        edge_s = draft.seconds if draft else 0.0
        result = CascadeResult(
            request_id=request_id,
            answer=answer,
            served_by=served_by,
            confidence=confidence,
            estimator=self.estimator.name,
            threshold=threshold,
            degraded=degraded_reason is not None,
            degraded_reason=degraded_reason,
            early_escalation=bool(draft and draft.stopped_early),
            prompt_tokens=cloud_tokens[0] if served_by == "cloud" else (draft.prompt_tokens if draft else 0),
            edge_tokens=len(draft.steps) if draft else 0,
            cloud_prompt_tokens=cloud_tokens[0],
            cloud_completion_tokens=cloud_tokens[1],
            edge_ms=edge_s * 1000,
            cloud_ms=cloud_ms,
            total_ms=(time.perf_counter() - started) * 1000,
            cost=answer_cost(self.cost, edge_s, *cloud_tokens),
            cloud_model=cloud_model,
            finish_reason=finish,
            tokens=tokens,
        )
        log.info(
            "answered",
            extra={
                "served_by": served_by,
                "confidence": confidence,
                "degraded": result.degraded,
                "total_ms": round(result.total_ms, 1),
            },
        )
        return result
