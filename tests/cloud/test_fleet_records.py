"""Fleet records: kept only with the tenant's consent, written to Parquet by tenant and day; labels as the build
reads them (pure logic and real Parquet files; the service end to end is in test_fleet_service.py)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cloud.fleet.build import label_batch
from cloud.fleet.records import FleetRecord, FleetRecorder
from shared.config import CloudFleetConfig

DAY = 86_400.0


class StepClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def record(tenant: str, created: float, rid: str = "r", **fields) -> FleetRecord:
    return FleetRecord(tenant, created, "escalation", rid, "", "minilm", [0.1, 0.2], **fields)


def test_without_consent_nothing_is_kept(tmp_path):
    recorder = FleetRecorder(CloudFleetConfig(consent=["acme"]), tmp_path)
    assert not recorder.add(record("other", time.time()))
    assert recorder.flush_now() == 0
    assert not (tmp_path / "records").exists()


def test_records_are_partitioned_by_tenant_and_day(tmp_path):
    clock = StepClock()
    recorder = FleetRecorder(CloudFleetConfig(consent=["*"]), tmp_path, clock)
    start = clock.now - 2 * DAY  # 2027-01-13 08:00 UTC
    for tenant, created in (("acme", start), ("acme", start + DAY), ("beta", start), ("beta", clock.now + 9 * DAY)):
        recorder.add(record(tenant, created, agreement=True))
    assert recorder.flush_now() == 4
    files = sorted(p.relative_to(tmp_path / "records").parent.as_posix() for p in tmp_path.rglob("*.parquet"))
    assert files == [
        "tenant=acme/day=2027-01-13",
        "tenant=acme/day=2027-01-14",
        "tenant=beta/day=2027-01-13",
        "tenant=beta/day=2027-01-15",  # a time days ahead of the cloud's clock is recorded as now
    ]
    table = pq.read_table(next((tmp_path / "records" / "tenant=beta" / "day=2027-01-13").rglob("*.parquet")))
    assert table.column("agreement").to_pylist() == [True] and table.column("question").to_pylist() == [None]
    assert not list(tmp_path.rglob("*.tmp")), "a file appears whole or not at all"


def test_a_flush_is_due_after_flush_records_or_flush_s():
    clock = StepClock()
    config = CloudFleetConfig(consent=["*"], flush_records=2, flush_s=10)
    recorder = FleetRecorder(config, Path("/nonexistent"), clock)
    assert not recorder.add(record("acme", clock.now)) and not recorder.due
    clock.now += 11
    assert recorder.due
    assert recorder.add(record("acme", clock.now)), "the second record fills the batch"


def test_escalations_are_labeled_as_the_devices_teacher_labels_them():
    batch = pd.DataFrame(
        {
            "tenant": ["acme"] * 4,
            "record_id": ["a", "b", "c", "d"],
            "created": [0.0] * 4,
            "embedder": ["minilm"] * 4,
            "embedding": [[0.1]] * 4,
            "edge_model": ["e"] * 4,
            "kind": ["escalation", "escalation", "escalation", "label"],
            "agreement": [True, False, None, None],
            "cloud_confidence": [0.9, 0.6, 0.8, None],
            "edge_correct": [None, None, None, 1.0],
            "cloud_correct": [None, None, None, None],
            "source": ["agreement", "agreement", "agreement", "feedback"],
        }
    )
    labeled = label_batch(batch)
    assert list(labeled["record_id"]) == ["a", "b", "d"], "agreement that cannot be told is no label"
    assert list(labeled["edge"]) == [1.0, 0.0, 1.0]
    assert labeled["cloud"].iloc[0] == 1.0 and labeled["cloud"].iloc[1] == 0.6 and np.isnan(labeled["cloud"].iloc[2])
    assert list(labeled["kind"]) == ["agreement", "agreement", "feedback"]
