"""tandem.v1.FleetService: devices upload labels and fetch their tenant's signed router (auth by the same
interceptor as inference: the tenant is the caller's, never one the request names)."""

from __future__ import annotations

import asyncio
import time

import grpc

from cloud.fleet.artifacts import ARTIFACTS_SERVED
from cloud.fleet.hub import FleetHub
from cloud.fleet.records import FleetRecord
from cloud.validation import usable_embedding
from shared.logging_setup import tenant_var
from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc

MAX_LABELS = 1000


def _label(tenant: str, device: str, label: pb.FleetLabel) -> FleetRecord | None:
    """A valid label as a record; None for one that cannot be used (no embedding, a label outside [0, 1])."""
    embedding = list(label.question_embedding)
    sides = [label.edge_correct if label.HasField("edge_correct") else None]
    sides.append(label.cloud_correct if label.HasField("cloud_correct") else None)
    known = [s for s in sides if s is not None]
    if not embedding or not usable_embedding(embedding):
        return None
    if not known or not all(0.0 <= s <= 1.0 for s in known):
        return None
    return FleetRecord(
        tenant=tenant,
        created=label.created or time.time(),
        kind="label",
        record_id=f"{device}:{label.label_id}",
        device=device,
        embedder=label.embedder[:128],
        embedding=embedding,
        question=label.question or None,
        edge_correct=sides[0],
        cloud_correct=sides[1],
        edge_model=label.edge_model[:128],
        source=label.source[:32] or "feedback",
    )


class FleetServicer(inference_pb2_grpc.FleetServiceServicer):
    def __init__(self, hub: FleetHub) -> None:
        self._hub = hub

    async def UploadLabels(self, request: pb.LabelBatch, context: grpc.aio.ServicerContext) -> pb.LabelAck:
        if len(request.labels) > MAX_LABELS:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"at most {MAX_LABELS} labels per batch")
        tenant, device = tenant_var.get(), request.device[:128]
        records = [r for r in (_label(tenant, device, label) for label in request.labels) if r is not None]
        recorded = self._hub.add_labels(records)
        return pb.LabelAck(accepted=len(records) if recorded else 0, recorded=recorded)

    async def GetFleetRouter(self, request: pb.FleetRouterRequest, context: grpc.aio.ServicerContext) -> pb.FleetRouter:
        tenant, store = tenant_var.get(), self._hub.artifacts
        # A tenant that withdrew its consent is served nothing, not the last router built with it.
        consents = self._hub.recorder.consents(tenant)
        found = await asyncio.to_thread(store.latest, tenant, request.since_version) if consents else None
        if found is None:
            return pb.FleetRouter(version=0)
        await asyncio.to_thread(store.note_served, tenant, request.device[:128], found.version)
        ARTIFACTS_SERVED.labels(tenant).inc()
        return pb.FleetRouter(
            version=found.version, manifest=found.manifest, signature=found.signature, payload=found.payload
        )
