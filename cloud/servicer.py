"""tandem.v1.InferenceService: validates, admits, streams from the backend, reports timings."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import asdict

import grpc

from cloud.admission import ConcurrencyLimiter
from cloud.backends.base import EngineDescription, GenerationBackend
from cloud.fleet.hub import FleetHub
from cloud.tenancy import TenantGate
from cloud.validation import RequestLimits, parse_generate_request
from shared.config import CloudConfig
from shared.errors import ShuttingDown, TandemError
from shared.logging_setup import request_id_var, tenant_var
from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc
from shared.types import FinishReason, GenerationChunk, GenerationRequest
from shared.wire import FINISH_TO_PB, delta_to_proto, verification_to_proto

log = logging.getLogger(__name__)

SERVER_VERSION = "0.1.0"


class InferenceServicer(inference_pb2_grpc.InferenceServiceServicer):
    def __init__(
        self,
        backend: GenerationBackend,
        engine: EngineDescription,
        config: CloudConfig,
        gate: TenantGate,
        fleet: FleetHub | None = None,
    ) -> None:
        self._backend = backend
        self._fleet = fleet
        self._gate = gate
        self._engine = engine
        self._config = config
        self._limits = RequestLimits(
            model_id=engine.model_id,
            max_output_tokens=config.limits.max_output_tokens,
            max_top_logprobs=config.limits.max_top_logprobs,
            max_context_tokens=engine.max_context_tokens,
            experts=frozenset(e.name for e in engine.experts),
            serves_experts=engine.serves_experts,
            prompt_style=config.engine.rendering,
        )
        # Each engine (replica) batches max_concurrent_requests streams.
        ceiling = config.ray.replica_ceiling if config.engine.backend == "ray" else 1
        self.limiter = ConcurrencyLimiter(config.limits.max_concurrent_requests * ceiling)
        self.served = 0
        self.draining = False

    async def Generate(
        self, request: pb.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[pb.GenerateResponse, None]:
        admitted_at = time.perf_counter()
        request_id_var.set(request.request_id or "-")
        try:
            if self.draining:
                raise ShuttingDown("server is shutting down")
            req = parse_generate_request(request, self._limits)
            request_id_var.set(req.request_id)
            with self.limiter.slot():
                # A bare question is rendered for the model by now: the fleet keeps what was asked, not the prompt.
                asked = request.question if request.WhichOneof("input") == "question" else None
                async for message in self._stream(req, admitted_at, asked):
                    yield message
        except TandemError as exc:
            log.info("request rejected", extra={"code": exc.code, "reason": str(exc)})
            await context.abort(getattr(grpc.StatusCode, exc.code), str(exc))
        except asyncio.CancelledError:
            log.info("request cancelled by client or deadline; aborted in engine")
            raise
        except Exception:
            log.exception("generation failed")
            await context.abort(grpc.StatusCode.INTERNAL, "generation failed inside the engine; see server log")

    async def _stream(
        self, req: GenerationRequest, admitted_at: float, asked: str | None = None
    ) -> AsyncGenerator[pb.GenerateResponse, None]:
        first_token_at: float | None = None
        last: GenerationChunk | None = None
        tenant = tenant_var.get()
        kept: list[GenerationChunk] | None = [] if self._fleet and self._fleet.wants(tenant, req) else None
        async for chunk in self._backend.generate(req):
            if first_token_at is None and (chunk.completion_tokens or chunk.text):  # a verified prefix is text
                first_token_at = time.perf_counter()
            if chunk.text or chunk.tokens:
                yield delta_to_proto(chunk)
            if kept is not None:
                kept.append(chunk)
            last = chunk
        if last is None or last.finish_reason is None:
            raise TandemError("engine ended the stream without a finish reason")
        done_at = time.perf_counter()
        ttft_ms = ((first_token_at or done_at) - admitted_at) * 1000
        total_ms = (done_at - admitted_at) * 1000
        limits = self._config.limits
        sampled = req.sampling.temperature > limits.cacheable_max_temperature
        cacheable = last.finish_reason != FinishReason.ABORT and not sampled
        ttl_s = limits.cache_ttl_seconds
        self.served += 1
        if self._fleet is not None and kept is not None and last.finish_reason != FinishReason.ABORT:
            answer, logprobs = "".join(c.text for c in kept), [t.logprob for c in kept for t in c.tokens]
            try:
                self._fleet.escalated(tenant, req, answer, logprobs, asked)
            except Exception:  # the answer was served: a record lost must not fail it
                log.exception("fleet record not kept")
        log.info(
            "request served",
            extra={
                "prompt_tokens": last.prompt_tokens,
                "completion_tokens": last.completion_tokens,
                "finish_reason": last.finish_reason.value,
                "ttft_ms": round(ttft_ms, 1),
                "total_ms": round(total_ms, 1),
                "edge_confidence": req.edge_context.confidence if req.edge_context else None,
                "replica": last.replica or None,
            },
        )
        yield pb.GenerateResponse(
            final=pb.Final(
                request_id=req.request_id,
                finish_reason=FINISH_TO_PB[last.finish_reason],
                model=self._engine.model_id,
                usage=pb.Usage(prompt_tokens=last.prompt_tokens, completion_tokens=last.completion_tokens),
                timings=pb.ServerTimings(
                    queue_ms=last.queue_ms or 0.0, time_to_first_token_ms=ttft_ms, total_ms=total_ms
                ),
                cache=pb.CacheHint(cacheable=cacheable, ttl_seconds=ttl_s if cacheable else 0),
                replica=last.replica,
                verification=verification_to_proto(last.verification) if last.verification else None,
            )
        )

    async def GetModelInfo(self, request: pb.ModelInfoRequest, context: grpc.aio.ServicerContext) -> pb.ModelInfo:
        return pb.ModelInfo(
            model_id=self._engine.model_id,
            backend=self._engine.backend,
            max_context_tokens=self._engine.max_context_tokens,
            max_output_tokens=self._config.limits.max_output_tokens,
            max_concurrent_requests=self.limiter.limit,
            max_top_logprobs=self._config.limits.max_top_logprobs,
            server_version=SERVER_VERSION,
            experts=[pb.ExpertInfo(**asdict(e)) for e in self._engine.experts],
            prompt_style=self._limits.prompt_style,
        )

    async def GetServerStatus(
        self, request: pb.ServerStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.ServerStatus:
        stats = self._backend.stats()
        return pb.ServerStatus(
            admitted_requests=self.limiter.active,
            engine_requests=stats.unfinished_requests,
            served_requests=self.served,
            serving=not self.draining,
            tenants=[
                pb.TenantStatus(tenant=name, requests=u.requests, rejected=u.rejected, active_streams=u.active_streams)
                for name, u in sorted(self._gate.usage.items())
            ],
            healthy_replicas=stats.healthy_replicas,
            replicas=[pb.ReplicaStatus(**asdict(r)) for r in stats.replicas],
        )
