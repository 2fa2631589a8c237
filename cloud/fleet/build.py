"""`tandem-cloud fleet build`: the fleet's records into one signed router per consenting tenant, on Ray Data.

Ray Data reads the Parquet records (partitioned by tenant and day), keeps consenting tenants and `--since`, and
labels each row where it lies (an escalation by its draft's agreement with the cloud's answer, as the device's own
teacher labels it; an uploaded label as the device sent it). The labeled rows come back to the driver, where
duplicates (a retried upload, a replayed request) are dropped and each tenant gets its rows (with the pooled
tenants' rows when it pools) signed as one version. Local Ray by default; `--ray-address` runs the same reads
and labelling on a cluster.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tqdm import tqdm

from cloud.fleet.artifacts import ArtifactStore, StoredArtifact
from shared.answers import agreement_labels
from shared.config import CloudFleetConfig
from shared.files import write_atomic
from shared.fleet_artifact import (
    AGREEMENT,
    FleetManifest,
    FleetRows,
    load_private_key,
    pack_rows,
    private_pem,
    public_pem,
    sha256,
)

COLUMNS = ["tenant", "record_id", "created", "embedder", "embedding", "edge_model", "kind", "edge", "cloud"]


@dataclass(frozen=True)
class BuildReport:
    version: int
    records_read: int
    rows: int
    duplicates: int
    seconds: float
    tenants: dict[str, int]  # rows in each tenant's router
    public_key: str


def signing_key(root: Path) -> Ed25519PrivateKey:
    """The fleet's signing key, made on first use (private: 0600); its public half goes to every device."""
    path = root / "signing.key"
    if not path.is_file():
        key = Ed25519PrivateKey.generate()
        write_atomic(path, private_pem(key), mode=0o600)
        write_atomic(root / "signing.pub", public_pem(key))
    return load_private_key(path)


def label_batch(batch: pd.DataFrame) -> pd.DataFrame:
    """Each record as a labeled row; escalations whose agreement cannot be told carry no label and are dropped."""
    escalation = batch["kind"] == "escalation"
    edge = batch["edge_correct"].astype(float).to_numpy(copy=True)
    cloud = batch["cloud_correct"].astype(float).to_numpy(copy=True)
    for i in np.flatnonzero(escalation.to_numpy()):
        agrees, sure = batch["agreement"].iloc[i], batch["cloud_confidence"].iloc[i]
        if pd.isna(agrees):
            continue
        edge[i], side = agreement_labels(bool(agrees), None if pd.isna(sure) else float(sure))
        cloud[i] = np.nan if side is None else side
    out = batch.assign(
        edge=edge,
        cloud=cloud,
        kind=np.where(escalation, AGREEMENT, batch["source"].fillna("feedback")),
        tenant=batch["tenant"].astype(str),
    )
    return out[~(np.isnan(edge) & np.isnan(cloud))][COLUMNS]


def read_labeled(records: Path, config: CloudFleetConfig, since: float, ray_address: str | None) -> pd.DataFrame:
    import ray

    local = {} if ray_address else {"include_dashboard": False}
    for attempt in range(2):  # Ray waits a fixed 30 s for its raylet; a busy small host can miss that once
        if ray.is_initialized():
            break
        try:
            ray.init(address=ray_address or None, logging_level=logging.WARNING, **local)
        except Exception:
            ray.shutdown()
            if attempt:
                raise
    from ray.data.datasource import Partitioning

    ds = ray.data.read_parquet(str(records), partitioning=Partitioning("hive"))
    consenting = ds.filter(lambda row: config.consents(str(row["tenant"])) and row["created"] >= since)
    labeled = consenting.map_batches(label_batch, batch_format="pandas")
    return labeled.to_pandas()


def tenant_rows(rows: pd.DataFrame, tenant: str, config: CloudFleetConfig) -> pd.DataFrame:
    """A tenant's router rows: its own, plus the other pooled tenants' when it pools; one embedder (its own)."""
    pooled = [t for t in rows["tenant"].unique() if t != tenant and config.pools(t)] if config.pools(tenant) else []
    mine = rows[rows["tenant"].isin([tenant, *pooled])]
    own = rows[rows["tenant"] == tenant]
    embedder = own["embedder"].mode().iloc[0]
    dim = own["embedding"].map(len).mode().iloc[0]  # a device that sent another length cannot spoil the rest
    return mine[(mine["embedder"] == embedder) & (mine["embedding"].map(len) == dim)]


def artifact_for(tenant: str, rows: pd.DataFrame, version: int, key: Ed25519PrivateKey) -> StoredArtifact:
    embeddings = np.stack([np.asarray(e, np.float32) for e in rows["embedding"]])
    packed = pack_rows(
        FleetRows(embeddings, rows["edge"].to_numpy(float), rows["cloud"].to_numpy(float), rows["kind"].to_numpy(str))
    )
    counts = {f"kind:{k}": int(n) for k, n in rows["kind"].value_counts().items()}
    own = int((rows["tenant"] == tenant).sum())  # other tenants are not named to this one's devices
    counts |= {"own": own, "pooled": len(rows) - own}
    manifest = FleetManifest(
        version=version,
        tenant=tenant,
        rows=len(rows),
        counts=counts,
        embedder=str(rows["embedder"].iloc[0]),
        dim=int(embeddings.shape[1]),
        edge_models=sorted(str(m) for m in rows["edge_model"].dropna().unique() if m),
        created=time.time(),
        payload_sha256=sha256(packed),
    ).to_bytes()
    return StoredArtifact(version, manifest, key.sign(manifest), packed)


def build(config: CloudFleetConfig, root: Path, since: float = 0.0, ray_address: str | None = None) -> BuildReport:
    started = time.perf_counter()
    records = root / "records"
    if not records.is_dir():
        raise FileNotFoundError(
            f"no fleet records under {records}: consent ([cloud.fleet] consent) and devices "
            "sharing ([edge.fleet] share) make them"
        )
    labeled = read_labeled(records, config, since, ray_address)
    if labeled.empty:
        raise FileNotFoundError(f"no labeled records of consenting tenants under {records} (since {since})")
    # Files come back in no set order: the latest copy of a record wins by its time.
    rows = labeled.sort_values("created", kind="stable").drop_duplicates(subset=["tenant", "record_id"], keep="last")
    key, store = signing_key(root), ArtifactStore(root)
    version = store.next_version()
    built = {}
    for tenant in tqdm(sorted(rows["tenant"].unique()), desc="fleet routers", unit="tenant"):
        mine = tenant_rows(rows, tenant, config)
        store.write(tenant, version, artifact_for(tenant, mine, version, key))
        built[tenant] = len(mine)
    return BuildReport(
        version,
        len(labeled),
        len(rows),
        len(labeled) - len(rows),
        round(time.perf_counter() - started, 2),
        built,
        str(root / "signing.pub"),
    )
