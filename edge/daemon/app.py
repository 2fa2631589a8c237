"""The daemon's HTTP app: OpenAI-compatible routes plus health, metrics and reconciliation.

All state lives in a `DaemonState` made by `create_app`; nothing is module-global.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field, replace

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError

from edge.agent import EdgeAgent
from edge.cascade import Policy
from edge.daemon import responses
from edge.daemon.metrics import DaemonMetrics
from edge.daemon.schemas import ChatCompletionRequest, CompletionRequest, FeedbackRequest
from edge.device import DeviceSensor, DeviceState, PsutilSensor, ThresholdDecision, adjust_threshold
from edge.outbox import Outbox, Reconciler
from shared.config import TandemConfig
from shared.errors import InvalidRequest, Overloaded

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code


@dataclass
class DaemonState:
    config: TandemConfig
    agent: EdgeAgent
    outbox: Outbox
    sensor: DeviceSensor
    metrics: DaemonMetrics = field(default_factory=DaemonMetrics)
    device: DeviceState | None = None
    decision: ThresholdDecision | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)

    def sample_device(self) -> None:
        self.device = self.sensor.read()
        self.decision = adjust_threshold(self.config.edge.threshold, self.device, self.config.resources)
        self.metrics.set_device(self.device, self.decision.threshold)

    async def sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.daemon.sensor_interval_s)
            try:
                await asyncio.to_thread(self.sample_device)
            except Exception:  # a flaky sensor must not stop the daemon
                log.exception("device sampling failed")


def _error_body(err: ApiError) -> dict:
    return {"error": {"message": err.message, "type": err.type, "param": err.param, "code": err.code}}


async def _read_json(request: Request, limit: int) -> dict:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body is larger than {limit} bytes", code="body_too_large")
    body = await request.body()
    if len(body) > limit:
        raise ApiError(413, f"request body is larger than {limit} bytes", code="body_too_large")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object", code="invalid_json")
    return data


def _parse(model_cls: type[BaseModel], data: dict) -> BaseModel:
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"])
        raise ApiError(400, f"{param}: {first['msg']}", param=param, code="invalid_value") from exc


def create_app(config: TandemConfig, sensor: DeviceSensor | None = None) -> FastAPI:
    holder: dict[str, DaemonState] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        agent = EdgeAgent(config)  # on the loop thread: the gRPC channel binds to it
        outbox = Outbox(config.data_dir / "edge" / "outbox.sqlite")
        state = DaemonState(config, agent, outbox, sensor or PsutilSensor())
        state.sample_device()
        reconciler = Reconciler(outbox, agent.cascade, config.daemon.outbox_interval_s, config.daemon.outbox_batch)
        state.tasks = [asyncio.create_task(reconciler.run()), asyncio.create_task(state.sample_forever())]
        holder["state"] = state
        app.state.tandem = state
        try:
            yield
        finally:
            for task in state.tasks:
                task.cancel()
            await asyncio.gather(*state.tasks, return_exceptions=True)
            await agent.close()
            outbox.close()

    app = FastAPI(title="Tandem edge daemon", lifespan=lifespan)
    model_name = config.daemon.model_name

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        holder["state"].metrics.http_errors.labels(str(exc.status)).inc()
        return JSONResponse(_error_body(exc), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _bad_params(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"])
        return await _api_error(request, ApiError(400, f"{param}: {first['msg']}", param=param, code="invalid_value"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return await _api_error(request, ApiError(500, "internal error; see the daemon log", "server_error"))

    async def answer(request: Request, model_cls: type[ChatCompletionRequest] | type[CompletionRequest]):
        state = holder["state"]
        body = _parse(model_cls, await _read_json(request, config.daemon.max_body_bytes))
        if body.model != model_name:
            raise ApiError(
                404,
                f"model '{body.model}' does not exist; this daemon serves '{model_name}'",
                param="model",
                code="model_not_found",
            )
        request_id = uuid.uuid4().hex
        try:
            query = body.to_query(config.daemon.max_input_chars, request_id)
            if query.policy.threshold is None and state.decision is not None:
                query = replace(query, policy=Policy(query.policy.route, state.decision.threshold))
            result = await state.agent.cascade.answer(query)
        except InvalidRequest as exc:
            raise ApiError(400, str(exc), code="invalid_value") from exc
        except Overloaded as exc:
            raise ApiError(429, str(exc), "rate_limit_error", code="local_queue_full") from exc
        if result.degraded:
            # Durable before the reply: a crash right after cannot lose the question.
            await asyncio.to_thread(state.outbox.add, request_id, query, result.answer, result.degraded_reason or "")
        await asyncio.to_thread(
            state.agent.outcomes.remember_served,
            request_id,
            state.agent.cascade.query_text(query),
            result.served_by,
            None,
        )
        state.metrics.observe(result)
        chat = model_cls is ChatCompletionRequest
        if body.stream:
            return StreamingResponse(responses.stream_events(result, model_name, chat), media_type="text/event-stream")
        build = responses.chat_completion if chat else responses.completion
        return JSONResponse(build(result, model_name, body.wants_logprobs()))

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        return await answer(request, ChatCompletionRequest)

    @app.post("/v1/completions")
    async def completions(request: Request):
        return await answer(request, CompletionRequest)

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "created": 0, "owned_by": "tandem"}]}

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        state = holder["state"]
        agent = state.agent
        try:
            info = await agent.client.model_info(timeout_s=1.0)
            cloud = {"reachable": True, "model": info.model_id}
        except Exception as exc:  # any failure means unreachable; the reason is reported
            cloud = {"reachable": False, "error": type(exc).__name__}
        cloud.update(address=agent.client.address, circuit=agent.breaker.state.value)
        try:
            cache = (
                {"ok": True, "entries": agent.cache.stats().entries} if agent.cache else {"ok": True, "enabled": False}
            )
        except Exception as exc:
            cache = {"ok": False, "error": str(exc)}
        body = {
            "status": "ok" if cache["ok"] else "degraded",
            "edge_model": {"loaded": True, "name": agent.cascade.edge_model},
            "cloud": cloud,
            "cache": cache,
            "outbox_pending": state.outbox.pending_count(),
            "device": asdict(state.device) if state.device else None,
            "effective_threshold": state.decision.threshold if state.decision else config.edge.threshold,
            "threshold_reasons": list(state.decision.reasons) if state.decision else [],
        }
        return JSONResponse(body, status_code=200 if cache["ok"] else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        state = holder["state"]
        entries = state.agent.cache.stats().entries if state.agent.cache else 0
        text = state.metrics.render(entries, state.agent.breaker.state, state.outbox.pending_count())
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    @app.post("/v1/tandem/feedback")
    async def feedback(request: Request) -> dict:
        """An app reports whether an answer was right; the router learns from it at once."""
        agent = holder["state"].agent
        body = _parse(FeedbackRequest, await _read_json(request, 10_000))
        served = await asyncio.to_thread(agent.outcomes.served, body.request_id())
        if served is None:
            raise ApiError(
                404, f"no answer with id '{body.response_id}' is known", param="response_id", code="unknown_response"
            )
        if agent.embedder is None:
            raise ApiError(409, "feedback needs the router or the semantic cache enabled", code="router_disabled")
        vector = await agent.embedder.embed(served.question)
        edge_side = served.served_by == "edge"  # cache hits and escalations are cloud answers
        await asyncio.to_thread(
            agent.outcomes.add,
            served.question,
            vector,
            body.correct if edge_side else None,
            None if edge_side else body.correct,
            "feedback",
        )
        if agent.routing is not None:
            await asyncio.to_thread(agent.routing.refresh)
        return {"recorded": True, "served_by": served.served_by, "outcomes": agent.outcomes.count()}

    @app.get("/v1/tandem/reconciled")
    async def reconciled(since: float = 0.0, limit: int = 100) -> dict:
        """Cloud answers for questions that were answered degraded, reconciled after `since` (unix seconds)."""
        items = holder["state"].outbox.reconciled_since(since, max(1, min(limit, 1000)))
        return {"object": "list", "data": [asdict(i) for i in items], "now": time.time()}

    return app
