"""The egress log: every request that left the device, append-only per app, with what was redacted in it.

A row holds the time, the request id, the bytes of the request message, the entity types whose placeholders
it carried and the SHA-256 of those exact bytes, never the text itself. The uplink of each app writes the row
before the request leaves; when it cannot, the request does not leave (the answer degrades to the edge).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

from edge.core.protocols import Uplink, UplinkDone, UplinkEvent
from edge.core.redaction import TAGS
from edge.sqlite_db import StorageReport, open_db
from shared.types import GenerationRequest
from shared.wire import request_to_proto

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS egress (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    request_id TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    redacted TEXT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS egress_time ON egress(time);
CREATE TRIGGER IF NOT EXISTS egress_no_update BEFORE UPDATE ON egress
BEGIN SELECT RAISE(ABORT, 'the egress log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS egress_no_delete BEFORE DELETE ON egress
BEGIN SELECT RAISE(ABORT, 'the egress log is append-only'); END;
"""
_PLACEHOLDER = re.compile(rb"<([A-Z]+)_\d+>")
_KIND_OF_TAG = {tag.encode(): kind for kind, tag in TAGS.items()}


@dataclass(frozen=True)
class EgressRecord:
    time: float
    request_id: str
    bytes: int
    redacted: tuple[str, ...]  # entity types whose placeholders the request carried
    sha256: str


@dataclass
class EgressTotals:
    """Since the log began (it is never rewritten, so these only grow)."""

    requests: int = 0
    bytes: int = 0
    redacted: dict[str, int] = field(default_factory=dict)  # requests that carried each type's placeholders


def egress_record(request_id: str, payload: bytes) -> EgressRecord:
    kinds = sorted({_KIND_OF_TAG[m.group(1)] for m in _PLACEHOLDER.finditer(payload) if m.group(1) in _KIND_OF_TAG})
    return EgressRecord(time.time(), request_id, len(payload), tuple(kinds), hashlib.sha256(payload).hexdigest())


class EgressLog:
    def __init__(self, path: Path, storage: StorageReport | None = None) -> None:
        self._lock = threading.Lock()
        self._db = open_db(path, _SCHEMA, "FULL", storage or StorageReport())
        self.totals = EgressTotals()
        for record in self.since(0.0, limit=None):
            self._count(record)

    def _count(self, record: EgressRecord) -> None:
        self.totals.requests += 1
        self.totals.bytes += record.bytes
        for kind in record.redacted:
            self.totals.redacted[kind] = self.totals.redacted.get(kind, 0) + 1

    def append(self, record: EgressRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO egress (time, request_id, bytes, redacted, sha256) VALUES (?, ?, ?, ?, ?)",
                (record.time, record.request_id, record.bytes, ",".join(record.redacted), record.sha256),
            )
            self._count(record)

    def since(self, since: float, limit: int | None = 100) -> list[EgressRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT time, request_id, bytes, redacted, sha256 FROM egress WHERE time > ? ORDER BY seq LIMIT ?",
                (since, -1 if limit is None else limit),
            ).fetchall()
        return [EgressRecord(r[0], r[1], r[2], tuple(k for k in r[3].split(",") if k), r[4]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class AuditedUplink:
    """An app's way to the cloud: each request is logged before it leaves, or does not leave."""

    def __init__(self, uplink: Uplink, egress: EgressLog) -> None:
        self._uplink = uplink
        self._egress = egress

    @property
    def available(self) -> bool:
        return self._uplink.available

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[UplinkEvent, None]:
        record = egress_record(request.request_id, request_to_proto(request).SerializeToString())
        try:
            await asyncio.to_thread(self._egress.append, record)
        except (sqlite3.Error, OSError) as exc:
            log.error("egress log unwritable: the request stays on the device", extra={"error": str(exc)})
            yield UplinkDone(None, "egress_log_failed", str(exc))
            return
        async with aclosing(self._uplink.stream(request)) as events:
            async for event in events:
                yield event
