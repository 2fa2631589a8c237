"""`tandem-cloud fleet build|status`: the fleet's records into signed routers, and what operators need to see."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from shared.config import CloudFleetConfig, TandemConfig
from shared.fleet_artifact import FleetManifest


def add_fleet_parser(sub) -> None:
    fleet = sub.add_parser("fleet", help="fleet learning: build signed routers from the fleet's records, status")
    fleet_sub = fleet.add_subparsers(dest="fleet_command", required=True)
    build = fleet_sub.add_parser("build", help="read the records with Ray Data and write one signed router per tenant")
    build.add_argument("--since", help="only records from this time on (ISO date or datetime, UTC)")
    build.add_argument("--ray-address", help="a Ray cluster to run the pipeline on (default: Ray on this machine)")
    for command in (build, fleet_sub.add_parser("status", help="records per tenant and day, builds, devices")):
        command.add_argument(
            "--fleet-dir", dest="cloud.fleet.dir", default=argparse.SUPPRESS, help="default: <data_dir>/fleet"
        )
        command.add_argument(
            "--consent", dest="cloud.fleet.consent", nargs="+", default=argparse.SUPPRESS, help="consenting tenants"
        )
        command.add_argument(
            "--pooled", dest="cloud.fleet.pooled", nargs="+", default=argparse.SUPPRESS, help="tenants that pool"
        )


def since_time(value: str | None) -> float:
    if not value:
        return 0.0
    stamp = datetime.fromisoformat(value)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def status(config: CloudFleetConfig, root: Path) -> dict:
    import pyarrow.parquet as pq

    from cloud.fleet.artifacts import ArtifactStore

    records: dict[str, dict[str, int]] = {}
    for part in sorted((root / "records").glob("tenant=*/day=*/*.parquet")):
        tenant, day = part.parent.parent.name.split("=", 1)[1], part.parent.name.split("=", 1)[1]
        records.setdefault(tenant, {}).setdefault(day, 0)
        records[tenant][day] += pq.ParquetFile(part).metadata.num_rows
    store = ArtifactStore(root)
    versions = {t: store.versions(t) for t in store.tenants()}
    latest = max((v for vs in versions.values() for v in vs), default=0)
    newest = next((store.latest(t) for t, vs in versions.items() if latest in vs), None)
    built_at = FleetManifest.from_bytes(newest.manifest).created if newest else None
    devices: dict[str, dict[str, int]] = {}
    for tenant, held in store.served().items():
        for device in held.values():
            devices.setdefault(tenant, {}).setdefault(str(device["version"]), 0)
            devices[tenant][str(device["version"])] += 1
    return {
        "consent": config.consent,
        "pooled": config.pooled,
        "records": records,
        "last_build": {"version": latest, "created": built_at} if latest else None,
        "versions": versions,
        "devices_on_version": devices,
    }


def run_fleet(args: argparse.Namespace, config: TandemConfig) -> int:
    from cloud.fleet.records import fleet_dir

    root = fleet_dir(config)
    if args.fleet_command == "status":
        print(json.dumps(status(config.cloud.fleet, root), indent=1))
        return 0
    from cloud.fleet.build import build

    report = build(config.cloud.fleet, root, since_time(args.since), args.ray_address)
    print(json.dumps({**asdict(report), "records_per_s": round(report.records_read / max(report.seconds, 1e-9), 1)}))
    return 0
