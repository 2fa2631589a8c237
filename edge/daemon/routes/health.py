"""GET /healthz, /metrics and /v1/models: what the daemon is doing, never blocking the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from edge.daemon.state import DaemonState
from edge.sqlite_db import STORAGE

router = APIRouter()


@router.get("/v1/models")
async def models(request: Request) -> dict:
    state: DaemonState = request.app.state.tandem
    state.space(request)  # the API needs a token when tokens are configured
    name = state.config.daemon.model_name
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "tandem"}]}


def _local_counts(state: DaemonState) -> dict:
    """SQLite reads: run in a worker thread (a slow disk must not stall every other request)."""
    stores = [space.namespace.store for space in state.spaces.values() if space.namespace.store is not None]
    try:
        cache = (
            {"ok": True, "entries": sum(s.stats().entries for s in stores)}
            if stores
            else {"ok": True, "enabled": False}
        )
    except Exception as exc:
        cache = {"ok": False, "error": str(exc)}
    pending = sum(space.outbox.pending_count() for space in state.spaces.values())
    return {"cache": cache, "outbox_pending": pending, "namespaces": len(state.spaces)}


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    state: DaemonState = request.app.state.tandem
    agent = state.agent
    try:
        info = await agent.client.model_info(timeout_s=1.0)
        cloud = {"reachable": True, "model": info.model_id}
    except Exception as exc:  # any failure means unreachable; the reason is reported
        cloud = {"reachable": False, "error": type(exc).__name__}
    cloud.update(address=agent.client.address, circuit=agent.breaker.state.value)
    local = await asyncio.to_thread(_local_counts, state)
    storage = STORAGE.as_dict()
    body = {
        "status": "ok" if local["cache"]["ok"] and storage["ok"] else "degraded",
        "storage": storage,
        "edge_model": {"loaded": True, "name": agent.cascade.edge_model},
        "local_generations": agent.generator.running,
        "cloud": cloud,
        **local,
        "device": asdict(state.device) if state.device else None,
        "effective_threshold": state.effective_threshold(),
        "cloud_share": asdict(agent.cascade.share.report()),
        "threshold_reasons": list(state.shift.reasons),
    }
    return JSONResponse(body, status_code=200 if local["cache"]["ok"] else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    state: DaemonState = request.app.state.tandem
    local = await asyncio.to_thread(_local_counts, state)
    text = state.metrics.render(
        local["cache"].get("entries", 0),
        state.agent.breaker.state,
        local["outbox_pending"],
        state.agent.generator.running,
        state.agent.cascade.share.report(),
    )
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
