"""The fleet's router rows beneath each app's own labels: swapped whole when a newer signed artifact is verified.

Every namespace's router reads its rows through `WithFleet`, so one swap reaches them all at their next refresh;
a fleet row weighs `[edge.fleet] weight` against a device label (teacher kinds also `agreement_weight`).
"""

from __future__ import annotations

import threading

import numpy as np

from edge.routing.outcome_store import OutcomeRows, OutcomeSource
from shared.fleet_artifact import FleetManifest, FleetRows

FLEET_PREFIX = "fleet:"


class FleetLayer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows = OutcomeRows.empty()
        self.manifest: FleetManifest | None = None

    @property
    def version(self) -> int:
        return self.manifest.version if self.manifest else 0

    def swap(self, manifest: FleetManifest, rows: FleetRows) -> None:
        fleet = OutcomeRows(
            rows.embeddings.astype(np.float32),
            rows.edge_correct.astype(float),
            rows.cloud_correct.astype(float),
            np.char.add(FLEET_PREFIX, rows.kinds.astype(str)),
        )
        with self._lock:
            self._rows, self.manifest = fleet, manifest

    def all(self) -> OutcomeRows:
        with self._lock:
            return self._rows


class WithFleet:
    """An app's outcome source with the fleet's rows beneath it."""

    def __init__(self, fleet: FleetLayer, own: OutcomeSource) -> None:
        self.fleet = fleet
        self.own = own

    def all(self) -> OutcomeRows:
        return OutcomeRows.concat([self.fleet.all(), self.own.all()])
