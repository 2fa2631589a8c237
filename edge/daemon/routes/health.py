"""GET /healthz, /metrics and /v1/models: what the daemon is doing, never blocking the event loop."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from edge.daemon.metrics import DaemonGauges
from edge.daemon.state import DaemonState
from edge.namespace import NamespaceStatus

router = APIRouter()


@router.get("/v1/models")
async def models(request: Request) -> dict:
    state: DaemonState = request.app.state.tandem
    state.space(request)  # the API needs a token when tokens are configured
    name = state.config.daemon.model_name
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "tandem"}]}


@dataclass(frozen=True)
class LocalState:
    namespaces: dict[str, NamespaceStatus]
    cache: dict
    outbox_pending: int


def _local(state: DaemonState) -> LocalState:
    """SQLite reads: run in a worker thread (a slow disk must not stall every other request)."""
    pending = sum(space.outbox.pending_count() for space in state.spaces.values())
    try:
        statuses = {name: space.namespace.status() for name, space in state.spaces.items()}
    except Exception as exc:  # a failing disk is reported, not raised
        return LocalState({}, {"ok": False, "error": str(exc)}, pending)
    entries = [s.cache_entries for s in statuses.values() if s.cache_entries is not None]
    cache = {"ok": True, "entries": sum(entries)} if entries else {"ok": True, "enabled": False}
    return LocalState(statuses, cache, pending)


def _namespace_json(status: NamespaceStatus) -> dict:
    """Each app's own decision state: its share controller moves its threshold, not the others'."""
    return {
        "effective_threshold": status.effective_threshold,
        "cloud_share": asdict(status.share),
        "router_labels": status.router_labels,
        "learned": status.learned,
        "audits": asdict(status.audits) if status.audits is not None else None,
        "guard": asdict(status.guard) if status.guard is not None else None,
        "cache_entries": status.cache_entries,
        "cache_hits": None
        if status.cache_bound is None
        else {
            "bound": asdict(status.cache_bound),
            "audits": asdict(status.cache_audits) if status.cache_audits else None,
        },
    }


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    state: DaemonState = request.app.state.tandem
    agent = state.agent
    try:
        info = await agent.cloud_info(timeout_s=1.0)
        cloud = {"reachable": True, "model": info.model_id}
    except Exception as exc:  # any failure means unreachable; the reason is reported
        cloud = {"reachable": False, "error": type(exc).__name__}
    edge = agent.status()
    cloud.update(address=edge.cloud_address, circuit=edge.circuit.value)
    local = await asyncio.to_thread(_local, state)
    storage = agent.storage.as_dict()
    body = {
        "status": "ok" if local.cache["ok"] and storage["ok"] and edge.edge_loaded else "degraded",
        "storage": storage,
        "edge_model": {"loaded": edge.edge_loaded, "name": edge.edge_model},
        "local_generations": edge.local_generations,
        "cloud": cloud,
        "cache": local.cache,
        "outbox_pending": local.outbox_pending,
        "device": asdict(state.device) if state.device else None,
        "threshold_reasons": list(state.shift.reasons),
        "namespaces": {name: _namespace_json(status) for name, status in local.namespaces.items()},
        "fleet": None if agent.fleet is None else {**asdict(agent.fleet.status), "device": agent.fleet.device},
    }
    return JSONResponse(body, status_code=200 if local.cache["ok"] else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    state: DaemonState = request.app.state.tandem
    local = await asyncio.to_thread(_local, state)
    edge = state.agent.status()
    gauges = DaemonGauges(
        cache_entries=local.cache.get("entries", 0),
        breaker=edge.circuit,
        outbox_pending=local.outbox_pending,
        local_running=edge.local_generations,
        namespaces=local.namespaces,
    )
    return PlainTextResponse(state.metrics.render(gauges), media_type="text/plain; version=0.0.4")
