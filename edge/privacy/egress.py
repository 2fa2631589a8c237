"""The egress log: every request that left the device, append-only per app, with what was redacted in it.

A row holds the time, the request id, the bytes of the request message, the entity types whose placeholders
it carried and the SHA-256 of those exact bytes, never the text itself. The uplink writes the row for each
message it sends (a resend to an older cloud is a second row), once it is about to send it. A full disk holds
rows in memory until the next write succeeds (the device keeps answering, /healthz reports the fault); only when
that backlog is full does a message stay on the device (the answer degrades to the edge).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from edge.core.protocols import EgressAudit, UplinkEvent
from edge.core.redaction import TAGS
from edge.sqlite_db import StorageReport, open_db
from shared.types import GenerationRequest

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
MAX_WAITING = 10_000
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
        self._storage = storage or StorageReport()
        self._db = open_db(path, _SCHEMA, "FULL", self._storage)
        self._totals = EgressTotals()
        self._waiting: list[EgressRecord] = []  # rows a full disk refused, written before the next one
        requests, sent = self._db.execute("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM egress").fetchone()
        self._totals.requests, self._totals.bytes = requests, sent
        for kinds, n in self._db.execute("SELECT redacted, COUNT(*) FROM egress WHERE redacted != '' GROUP BY 1"):
            for kind in kinds.split(","):
                self._totals.redacted[kind] = self._totals.redacted.get(kind, 0) + n

    def totals(self) -> EgressTotals:
        with self._lock:
            return replace(self._totals, redacted=dict(self._totals.redacted))

    def append(self, record: EgressRecord) -> None:
        """Writes `record` after any row a full disk held back; raises when the disk still refuses (the rows wait
        in memory, in order, for the next write)."""
        with self._lock:
            self._waiting.append(record)
            while self._waiting:
                r = self._waiting[0]
                self._db.execute(
                    "INSERT INTO egress (time, request_id, bytes, redacted, sha256) VALUES (?, ?, ?, ?, ?)",
                    (r.time, r.request_id, r.bytes, ",".join(r.redacted), r.sha256),
                )
                self._waiting.pop(0)
                self._totals.requests += 1
                self._totals.bytes += r.bytes
                for kind in r.redacted:
                    self._totals.redacted[kind] = self._totals.redacted.get(kind, 0) + 1

    def audit(self, request_id: str, payload: bytes) -> bool:
        """Records a message about to leave (on the caller's thread: nothing can cancel it half-way). A full disk
        keeps the device answering, as everywhere else: the row waits in memory (up to MAX_WAITING rows, then
        nothing leaves) and /healthz reports the storage fault."""
        try:
            self.append(egress_record(request_id, payload))
        except (sqlite3.Error, OSError) as exc:
            self._storage.failed("egress", exc)
            with self._lock:
                if len(self._waiting) <= MAX_WAITING:
                    return True
                self._waiting.pop()
            log.error("egress log unwritable and its backlog full: the request stays on the device")
            return False
        return True

    def since(self, since: float, limit: int = 100) -> list[EgressRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT time, request_id, bytes, redacted, sha256 FROM egress WHERE time > ? ORDER BY seq LIMIT ?",
                (since, limit),
            ).fetchall()
        return [EgressRecord(r[0], r[1], r[2], tuple(k for k in r[3].split(",") if k), r[4]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class AuditableUplink(Protocol):
    """The uplink every app shares (`edge.uplink.CloudUplink`): it audits each message it sends."""

    @property
    def available(self) -> bool: ...

    def stream(
        self, request: GenerationRequest, audit: EgressAudit | None = None
    ) -> AsyncGenerator[UplinkEvent, None]: ...


class AuditedUplink:
    """An app's way to the cloud (an `Uplink`): every message is in the app's egress log before it leaves."""

    def __init__(self, uplink: AuditableUplink, egress: EgressLog) -> None:
        self._uplink = uplink
        self._egress = egress

    @property
    def available(self) -> bool:
        return self._uplink.available

    def stream(self, request: GenerationRequest) -> AsyncGenerator[UplinkEvent, None]:
        return self._uplink.stream(request, self._egress.audit)
