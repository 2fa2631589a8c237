"""Signed fleet routers on disk, one folder per tenant and version, and which device last fetched which version.

`<fleet dir>/artifacts/<tenant>/<version>/{manifest.json, manifest.sig, router.npz}`: a version is complete once
its folder exists (it is written under a temporary name and renamed), so a server never serves half an artifact.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import Counter

from shared.files import write_atomic

ARTIFACTS_SERVED = Counter("tandem_fleet_artifacts_served", "Fleet routers sent to devices", ["tenant"])


@dataclass(frozen=True)
class StoredArtifact:
    version: int
    manifest: bytes
    signature: bytes
    payload: bytes


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root / "artifacts"
        self._served_path = root / "served.json"
        self._lock = threading.Lock()

    def versions(self, tenant: str) -> list[int]:
        folder = self.root / tenant
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())

    def next_version(self) -> int:
        """Greater than every version of every tenant: one build is one version fleet-wide."""
        known = [v for t in self.tenants() for v in self.versions(t)]
        return max(known, default=0) + 1

    def tenants(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def write(self, tenant: str, version: int, artifact: StoredArtifact) -> Path:
        final = self.root / tenant / str(version)
        staging = self.root / tenant / f".{version}.tmp"
        staging.mkdir(parents=True, exist_ok=True)
        (staging / "manifest.json").write_bytes(artifact.manifest)
        (staging / "manifest.sig").write_bytes(artifact.signature)
        (staging / "router.npz").write_bytes(artifact.payload)
        staging.rename(final)
        return final

    def latest(self, tenant: str, since_version: int = 0) -> StoredArtifact | None:
        versions = self.versions(tenant)
        if not versions or versions[-1] <= since_version:
            return None
        folder = self.root / tenant / str(versions[-1])
        return StoredArtifact(
            versions[-1],
            (folder / "manifest.json").read_bytes(),
            (folder / "manifest.sig").read_bytes(),
            (folder / "router.npz").read_bytes(),
        )

    def note_served(self, tenant: str, device: str, version: int) -> None:
        """Remembers the version a device holds (`fleet status`: devices on each version)."""
        with self._lock:
            served = self.served()
            served.setdefault(tenant, {})[device or "unnamed"] = {"version": version, "at": time.time()}
            write_atomic(self._served_path, json.dumps(served, indent=1).encode())

    def served(self) -> dict[str, dict[str, dict]]:
        try:
            return json.loads(self._served_path.read_text())
        except FileNotFoundError:
            return {}
