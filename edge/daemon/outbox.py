"""Durable outbox of degraded answers, re-asked of the cloud once it is reachable (deferred reconciliation).

A degraded answer is recorded (SQLite, WAL, synchronous=FULL) before the caller gets it, so a crash or
`kill -9` right after the reply loses nothing. The reconciler claims pending rows one at a time, asks the
cloud, stores the answer in the cache and marks the row reconciled, so apps can fetch the correction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

from edge.core.protocols import UplinkDone
from edge.core.query import Query, QueryStyle
from edge.core.redaction import KEPT_LOCAL, NO_PERSONAL_DATA
from edge.sqlite_db import StorageReport, open_db
from shared.types import ChatMessage

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    query TEXT NOT NULL,
    degraded_answer TEXT NOT NULL,
    reason TEXT NOT NULL,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    cloud_answer TEXT,
    cloud_model TEXT,
    reconciled_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox(status, created);
CREATE INDEX IF NOT EXISTS outbox_reconciled ON outbox(reconciled_at);
"""


@dataclass(frozen=True)
class Reconciled:
    id: str
    query: dict
    degraded_answer: str
    cloud_answer: str
    cloud_model: str
    created: float
    reconciled_at: float


def query_to_json(query: Query) -> str:
    # Personal data stays placeholders: the mapping never outlives the request (nor is it copied here).
    data = asdict(replace(query.redacted(), privacy=NO_PERSONAL_DATA))
    data.pop("policy")  # a re-ask always goes to the cloud
    data.pop("privacy")
    return json.dumps(data)


def query_from_json(raw: str) -> Query:
    data = json.loads(raw)
    if data.get("messages") is not None:
        data["messages"] = tuple(ChatMessage(**m) for m in data["messages"])
    if data.get("stop") is not None:
        data["stop"] = tuple(data["stop"])
    if "style" in data:  # rows written before queries carried their style use the defaults
        data["style"] = QueryStyle(**data["style"])
    return Query(**data)


class Outbox:
    def __init__(self, path: Path, storage: StorageReport | None = None) -> None:
        self._lock = threading.Lock()
        self._db = open_db(path, _SCHEMA, "FULL", storage or StorageReport())

    def add(self, query: Query, degraded_answer: str, reason: str) -> None:
        query.privacy.learn(degraded_answer)  # the edge's answer may hold what its question did, in new forms
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO outbox (id, query, degraded_answer, reason, created) VALUES (?, ?, ?, ?, ?)",
                (query.request_id, query_to_json(query), query.privacy.redact(degraded_answer), reason, time.time()),
            )

    def pending(self, limit: int) -> list[tuple[str, Query]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, query FROM outbox WHERE status = 'pending' ORDER BY created LIMIT ?", (limit,)
            ).fetchall()
        return [(row[0], query_from_json(row[1])) for row in rows]

    def pending_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0]

    def mark_attempt(self, request_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (request_id,))

    def mark_reconciled(self, request_id: str, answer: str, model: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET status = 'reconciled', cloud_answer = ?, cloud_model = ?, reconciled_at = ? "
                "WHERE id = ? AND status = 'pending'",
                (answer, model, time.time(), request_id),
            )

    def mark_kept_local(self, request_id: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET status = 'kept_local' WHERE id = ? AND status = 'pending'", (request_id,)
            )

    def reconciled_since(self, since: float, limit: int = 100) -> list[Reconciled]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, query, degraded_answer, cloud_answer, cloud_model, created, reconciled_at FROM outbox "
                "WHERE status = 'reconciled' AND reconciled_at > ? ORDER BY reconciled_at LIMIT ?",
                (since, limit),
            ).fetchall()
        return [Reconciled(r[0], json.loads(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CloudAsker(Protocol):
    """Who re-asks a query in the cloud: an app's namespace (`edge.namespace.AppNamespace`)."""

    @property
    def cloud_available(self) -> bool: ...

    async def escalate(self, query: Query) -> UplinkDone: ...


class Reconciler:
    """Background task: while the outbox has pending queries, re-ask them in the cloud (caching the answers)."""

    def __init__(
        self,
        outbox: Outbox,
        asker: CloudAsker,
        interval_s: float,
        batch: int,
        on_pass: Callable[[int], None] = lambda reconciled: None,
    ) -> None:
        self.outbox = outbox
        self.asker = asker
        self.on_pass = on_pass  # after each pass, with how many it reconciled (metrics)
        self.interval_s = interval_s
        self.batch = batch

    async def run_once(self) -> int:
        """One pass; returns how many queries were reconciled. Stops at the first failure (cloud still down)."""
        done = 0
        for request_id, query in await asyncio.to_thread(self.outbox.pending, self.batch):
            if not self.asker.cloud_available:
                break
            await asyncio.to_thread(self.outbox.mark_attempt, request_id)
            outcome = await self.asker.escalate(replace(query, request_id=f"{request_id}-reconcile"))
            if outcome.failure == KEPT_LOCAL:  # the app's policy now keeps it on the device: never re-asked
                await asyncio.to_thread(self.outbox.mark_kept_local, request_id)
                continue
            if outcome.result is None:
                break
            await asyncio.to_thread(
                self.outbox.mark_reconciled, request_id, outcome.result.text.strip(), outcome.result.model
            )
            log.info("reconciled", extra={"outbox_id": request_id})
            done += 1
        return done

    async def run(self) -> None:
        while True:
            try:
                self.on_pass(await self.run_once())
            except Exception:  # the loop must outlive any single failure
                log.exception("reconciliation pass failed")
            await asyncio.sleep(self.interval_s)
