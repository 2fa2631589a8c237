"""Fleet records: one row per escalation served and per label a device uploads, kept only with the tenant's
consent and only as much as the device shares, appended to Parquet files partitioned by tenant and day.

Rows are buffered and written by `flush` (when `flush_records` are waiting, every `flush_s` from the server, and
at shutdown): each file is written whole under a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from prometheus_client import Counter

from shared.config import CloudFleetConfig, TandemConfig
from shared.config.base import NAME_PATTERN

RECORDS_WRITTEN = Counter("tandem_fleet_records_written", "Fleet records written to Parquet", ["tenant", "kind"])


def schema():
    """The records' Parquet schema (pyarrow comes with the `fleet` extra: imported only once a record is kept)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("created", pa.float64()),
            ("kind", pa.string()),  # "escalation" (the cloud served it) or "label" (a device uploaded it)
            ("record_id", pa.string()),  # request id or the device's label id: duplicates are dropped by the build
            ("device", pa.string()),
            ("embedder", pa.string()),
            ("embedding", pa.list_(pa.float32())),
            ("question", pa.string()),  # null unless the device shares text
            ("draft", pa.string()),
            ("answer", pa.string()),
            ("agreement", pa.bool_()),  # the draft said what the cloud said (null: no draft, or cannot be told)
            ("edge_correct", pa.float64()),  # a device's label; escalations are labeled by the build from agreement
            ("cloud_correct", pa.float64()),
            ("confidence", pa.float64()),  # the edge's, when it escalated
            ("cloud_confidence", pa.float64()),  # the cloud's in its answer, when it computed token log-probs
            ("estimator", pa.string()),
            ("edge_model", pa.string()),
            ("source", pa.string()),  # agreement, feedback, audit
        ]
    )


def fleet_dir(config: TandemConfig) -> Path:
    return Path(config.cloud.fleet.dir) if config.cloud.fleet.dir else config.data_dir / "fleet"


@dataclass(frozen=True)
class FleetRecord:
    tenant: str
    created: float
    kind: str
    record_id: str
    device: str
    embedder: str
    embedding: list[float]
    question: str | None = None
    draft: str | None = None
    answer: str | None = None
    agreement: bool | None = None
    edge_correct: float | None = None
    cloud_correct: float | None = None
    confidence: float | None = None
    cloud_confidence: float | None = None
    estimator: str = ""
    edge_model: str = ""
    source: str = ""


class FleetRecorder:
    def __init__(self, config: CloudFleetConfig, root: Path, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.records_dir = root / "records"
        self.clock = clock
        self._buffer: list[FleetRecord] = []
        self._lock = threading.Lock()
        self._flushed_at = clock()

    def consents(self, tenant: str) -> bool:
        """A consenting tenant whose name is safe as a folder name (an mTLS common name may not be)."""
        return self.config.consents(tenant) and NAME_PATTERN.match(tenant) is not None

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._buffer)

    def add(self, record: FleetRecord) -> bool:
        """Buffers a record of a consenting tenant (others are dropped); True when a flush is due. A time that is
        not a plausible Unix time (a device's clock, a bad upload) is replaced by now."""
        if not self.consents(record.tenant):
            return False
        if not 0.0 < record.created <= self.clock() + 86_400:
            record = replace(record, created=self.clock())
        with self._lock:
            self._buffer.append(record)
            return len(self._buffer) >= self.config.flush_records

    @property
    def due(self) -> bool:
        return self.waiting > 0 and self.clock() - self._flushed_at >= self.config.flush_s

    async def flush(self) -> int:
        return await asyncio.to_thread(self.flush_now)

    def flush_now(self) -> int:
        """Writes what is buffered, one file per tenant and day; returns the records written."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        with self._lock:
            batch, self._buffer = self._buffer, []
            self._flushed_at = self.clock()
        groups: dict[tuple[str, str], list[FleetRecord]] = {}
        for r in batch:
            groups.setdefault((r.tenant, time.strftime("%Y-%m-%d", time.gmtime(r.created))), []).append(r)
        for (tenant, day), rows in groups.items():
            folder = self.records_dir / f"tenant={tenant}" / f"day={day}"
            folder.mkdir(parents=True, exist_ok=True)
            columns = [{k: v for k, v in asdict(r).items() if k != "tenant"} for r in rows]
            table = pa.Table.from_pylist(columns, schema=schema())
            name = f"part-{time.time_ns()}-{uuid.uuid4().hex[:8]}.parquet"
            pq.write_table(table, folder / f".{name}.tmp")
            (folder / f".{name}.tmp").rename(folder / name)
            for kind in {r.kind for r in rows}:
                RECORDS_WRITTEN.labels(tenant, kind).inc(sum(r.kind == kind for r in rows))
        return len(batch)
