"""`tandem-cloud fleet build` on a real local Ray: one signed router per consenting tenant, duplicates and
withdrawn tenants dropped, pooled tenants learning from each other; `fleet status` reports it."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from cloud.fleet.artifacts import ArtifactStore
from cloud.fleet.records import FleetRecord, FleetRecorder
from shared.config import CloudFleetConfig
from shared.fleet_artifact import load_public_key, verify_artifact

pytestmark = pytest.mark.ray


def cli(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "cloud.cli", "fleet", *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1] if args[0] == "build" else done.stdout)


def test_build_signs_one_router_per_consenting_tenant(tmp_path):
    recorder = FleetRecorder(CloudFleetConfig(consent=["*"]), tmp_path)
    rng = np.random.default_rng(0)
    for tenant, n in (("acme", 6), ("beta", 4), ("gone", 5)):
        for i in range(n):
            vector = rng.normal(size=8).tolist()
            recorder.add(
                FleetRecord(tenant, time.time(), "escalation", f"r{i}", "", "minilm", vector, agreement=i % 2 == 0)
            )
    replay = FleetRecord("acme", time.time(), "escalation", "r0", "", "minilm", [0.0] * 8, agreement=True)
    recorder.add(replay)  # a replayed request: one row
    recorder.flush_now()

    # "gone" withdrew its consent; acme and beta pool their rows.
    report = cli("build", "--fleet-dir", str(tmp_path), "--consent", "acme", "beta", "--pooled", "acme", "beta")
    assert report["tenants"] == {"acme": 10, "beta": 10} and report["duplicates"] == 1
    assert report["records_read"] == 11 and report["records_per_s"] > 0
    key = load_public_key(tmp_path / "signing.pub")
    found = ArtifactStore(tmp_path).latest("acme")
    assert found is not None
    manifest, rows = verify_artifact(found.manifest, found.signature, found.payload, key, "minilm", 8)
    assert manifest.tenant == "acme" and manifest.counts["pooled"] == 4 and len(rows) == 10
    assert "tenant:beta" not in manifest.counts, "other tenants are not named to this one"
    assert ArtifactStore(tmp_path).latest("gone") is None

    # Without pooling each tenant's router holds only its own rows; a build is a new version.
    again = cli("build", "--fleet-dir", str(tmp_path), "--consent", "acme", "beta")
    assert again["tenants"] == {"acme": 6, "beta": 4} and again["version"] == report["version"] + 1
    status = cli("status", "--fleet-dir", str(tmp_path), "--consent", "acme", "beta")
    assert sum(status["records"]["acme"].values()) == 7 and status["last_build"]["version"] == again["version"]
    assert status["versions"]["beta"] == [report["version"], again["version"]]
