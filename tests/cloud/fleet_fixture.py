"""Signed fleet routers written straight into a fleet folder, for tests of serving and using them (the build
itself is tested in test_fleet_build.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from cloud.fleet.artifacts import ArtifactStore, StoredArtifact
from cloud.fleet.build import signing_key
from shared.fleet_artifact import FleetManifest, FleetRows, pack_rows, sha256


def write_router(root: Path, tenant: str, rows: FleetRows, embedder: str) -> int:
    """Signs `rows` as the tenant's next router version with the fleet's key; returns the version."""
    store, key = ArtifactStore(root), signing_key(root)
    version = store.next_version()
    payload = pack_rows(rows)
    manifest = FleetManifest(
        version, tenant, len(rows), {}, embedder, rows.embeddings.shape[1], [], time.time(), sha256(payload)
    ).to_bytes()
    store.write(tenant, version, StoredArtifact(version, manifest, key.sign(manifest), payload))
    return version


def rows_near(vector: np.ndarray, n: int, edge_correct: float, cloud_correct: float) -> FleetRows:
    """`n` labeled rows at (almost) the given question: what a fleet learned about that kind of question."""
    noise = np.random.default_rng(0).normal(scale=0.01, size=(n, len(vector)))
    embeddings = (vector[None, :] + noise).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    return FleetRows(embeddings, np.full(n, edge_correct), np.full(n, cloud_correct), np.array(["feedback"] * n))


async def records_of(
    root: Path, tenant: str, done: Callable[[list[dict]], bool], timeout_s: float = 30.0
) -> list[dict]:
    """The tenant's records once `done` holds for them (the cloud writes each as it is made); bounded wait."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = [
            r
            for p in sorted((root / "records" / f"tenant={tenant}").rglob("*.parquet"))
            for r in pq.read_table(p).to_pylist()
        ]
        if done(rows) or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.1)
