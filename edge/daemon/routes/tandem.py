"""Tandem's own routes: feedback on answers (the router learns at once), reconciled degraded answers and the
egress log (what left the device)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict

from fastapi import APIRouter, Request

from edge.daemon.errors import ApiError, parse, read_json
from edge.daemon.schemas import FeedbackRequest
from edge.daemon.state import DaemonState

router = APIRouter()


@router.post("/v1/tandem/feedback")
async def feedback(request: Request) -> dict:
    """An app reports whether an answer was right, by its response id."""
    state: DaemonState = request.app.state.tandem
    namespace = state.space(request).namespace
    body = parse(FeedbackRequest, await read_json(request, 10_000))
    try:
        # Only this app's own answers: another app's response id is unknown here.
        recorded = await namespace.feedback(body.request_id(), body.correct)
    except LookupError as exc:
        raise ApiError(409, str(exc), code="router_disabled") from exc
    if recorded is None:
        raise ApiError(
            404, f"no answer with id '{body.response_id}' is known", param="response_id", code="unknown_response"
        )
    return {"recorded": True, "served_by": recorded.served_by, "outcomes": recorded.outcomes}


@router.get("/v1/tandem/reconciled")
async def reconciled(request: Request, since: float = 0.0, limit: int = 100) -> dict:
    """Cloud answers for questions that were answered degraded, reconciled after `since` (unix seconds)."""
    outbox = request.app.state.tandem.space(request).outbox
    items = await asyncio.to_thread(outbox.reconciled_since, since, max(1, min(limit, 1000)))
    return {"object": "list", "data": [asdict(i) for i in items], "now": time.time()}


@router.get("/v1/tandem/egress")
async def egress(request: Request, since: float = 0.0, limit: int = 100) -> dict:
    """The calling app's requests that left the device after `since` (unix seconds): time, request id, bytes,
    redacted entity types and the SHA-256 of the exact request message, never its text."""
    namespace = request.app.state.tandem.space(request).namespace
    items = await asyncio.to_thread(namespace.egress, since, max(1, min(limit, 1000)))
    return {"object": "list", "data": [asdict(i) for i in items], "now": time.time()}
