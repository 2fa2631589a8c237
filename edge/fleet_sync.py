"""The device's side of fleet learning: upload its apps' labels, fetch its tenant's signed router, swap it in.

At start and every `[edge.fleet] poll_s`: each app's new feedback and audit labels go up in batches (resuming after
the last one the cloud acknowledged; nothing when `share = "off"`), then a router newer than the one held is
fetched, verified against `public_key` (signature, payload hash, embedder) and swapped in whole under every app's
own labels. A refused artifact is logged with its reason and the old router stays; a cloud that cannot be reached
is tried again at the next poll. The upload cursor and the device id live in `<data_dir>/fleet.json`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc

from edge.core.protocols import AUDIT, FEEDBACK, EgressAudit, Embedder
from edge.routing.fleet_layer import FleetLayer
from edge.routing.outcome_store import OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from edge.uplink.client import CloudClient
from shared.config import EdgeFleetConfig
from shared.files import write_atomic
from shared.fleet_artifact import ArtifactRefused, load_public_key, verify_artifact
from shared.rpc import inference_pb2 as pb

log = logging.getLogger(__name__)
UPLOADED_SOURCES = (FEEDBACK, AUDIT)


@dataclass
class FleetStatus:
    version: int = 0
    rows: int = 0
    uploaded: int = 0
    refused: str = ""  # why the last artifact offered was not used
    error: str = ""  # the last sync's failure, if any
    synced_at: float | None = None


class FleetSync:
    def __init__(
        self,
        client: CloudClient,
        layer: FleetLayer,
        config: EdgeFleetConfig,
        embedder: Embedder,
        state_path: Path,
    ) -> None:
        self.client = client
        self.layer = layer
        self.config = config
        self.embedder = embedder
        self.state_path = state_path
        self.apps: dict[str, tuple[OutcomeStore, KnnRoutePolicy | None, EgressAudit | None]] = {}
        self.status = FleetStatus()
        self._state = json.loads(state_path.read_text()) if state_path.is_file() else {}
        if "device" not in self._state:  # one id for the device's lifetime, saved before it is first used
            self._state["device"] = uuid.uuid4().hex
            self._save()

    def _save(self) -> None:
        write_atomic(self.state_path, json.dumps(self._state).encode())

    @property
    def device(self) -> str:
        return self._state["device"]

    def add_app(
        self, name: str, store: OutcomeStore, router: KnnRoutePolicy | None, audit: EgressAudit | None = None
    ) -> None:
        """`audit` records each upload of the app's labels before it leaves (its egress log)."""
        self.apps[name] = (store, router, audit)

    async def run(self) -> None:
        while True:
            await self.sync_once()
            await asyncio.sleep(self.config.poll_s)

    async def sync_once(self) -> FleetStatus:
        try:
            if self.config.share != "off":
                for name, (store, _, audit) in self.apps.items():
                    await self._upload(name, store, audit)
            if self.config.public_key:
                await self._fetch()
            self.status.error = ""
        except grpc.aio.AioRpcError as exc:
            self.status.error = f"{exc.code().name}: {exc.details()}"
            log.warning("fleet sync failed; trying again at the next poll", extra={"reason": self.status.error})
        except Exception as exc:  # a full disk, a closed channel: the loop goes on, /healthz says why
            self.status.error = f"{type(exc).__name__}: {exc}"
            log.exception("fleet sync failed; trying again at the next poll")
        self.status.synced_at = time.time()
        return self.status

    async def _upload(self, name: str, store: OutcomeStore, audit: EgressAudit | None) -> None:
        cursors = self._state.setdefault("uploaded", {})
        while labels := await asyncio.to_thread(
            store.labels_after, cursors.get(name, 0), UPLOADED_SOURCES, self.config.upload_batch
        ):
            batch = pb.LabelBatch(device=self.device)
            for label in labels:
                sent = pb.FleetLabel(
                    question_embedding=label.embedding.tolist(),
                    embedder=self.embedder.name,
                    question=label.question if self.config.share == "text" else "",
                    created=label.created,
                    label_id=f"{name}:{label.id}",
                    source=label.source,
                )
                if label.edge_correct is not None:
                    sent.edge_correct = float(label.edge_correct)
                if label.cloud_correct is not None:
                    sent.cloud_correct = float(label.cloud_correct)
                batch.labels.append(sent)
            if audit is not None and not audit(f"fleet-labels:{name}:{labels[-1].id}", batch.SerializeToString()):
                raise OSError("the egress log is unwritable; labels are not uploaded")
            ack = await self.client.upload_labels(batch)
            cursors[name] = labels[-1].id  # acknowledged (kept or not, per the tenant's consent): not sent again
            self.status.uploaded += ack.accepted
            await asyncio.to_thread(self._save)

    async def _fetch(self) -> None:
        offered = await self.client.fleet_router(self.layer.version, self.device)
        if offered.version == 0:
            return
        try:
            key = await asyncio.to_thread(load_public_key, Path(self.config.public_key))
            manifest, rows = await asyncio.to_thread(
                verify_artifact,
                offered.manifest,
                offered.signature,
                offered.payload,
                key,
                self.embedder.name,
                self.embedder.dim,
            )
            if manifest.version != offered.version or manifest.version <= self.layer.version:
                raise ArtifactRefused(f"it signs version {manifest.version}, not a newer one: a replay")
        except (ArtifactRefused, ValueError, OSError) as exc:
            self.status.refused = f"version {offered.version}: {exc}"
            log.warning("fleet router refused; keeping the one held", extra={"reason": self.status.refused})
            return
        self.layer.swap(manifest, rows)
        for _, router, _ in self.apps.values():
            if router is not None:
                await asyncio.to_thread(router.refresh)
        self.status.version, self.status.rows, self.status.refused = manifest.version, manifest.rows, ""
        log.info("fleet router swapped in", extra={"version": manifest.version, "rows": manifest.rows})
