"""Local cache of cloud answers: SQLite in WAL mode, TTL, LRU-bounded, surviving restarts."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from edge.cache.hit_bound import AuditedHit
from edge.sqlite_db import StorageReport, open_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    model TEXT NOT NULL,
    confidence REAL,
    meta TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    last_used REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS answers_last_used ON answers(last_used);
CREATE TABLE IF NOT EXISTS audited_hits (
    key TEXT NOT NULL,
    similarity REAL NOT NULL,
    agrees INTEGER NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class CachedAnswer:
    key: str
    question: str
    answer: str
    model: str
    confidence: float | None
    meta: dict
    created: float
    hits: int


@dataclass(frozen=True)
class CacheStats:
    entries: int
    hits: int
    path: str
    size_bytes: int


class CacheStore(Protocol):
    storage: StorageReport  # where failed writes are reported

    def get(self, key: str) -> CachedAnswer | None: ...

    def peek(self, key: str) -> CachedAnswer | None: ...

    def put(
        self,
        *,
        key: str,
        question: str,
        answer: str,
        model: str,
        confidence: float | None,
        meta: dict,
        ttl_s: float,
        embedding: np.ndarray | None = None,
    ) -> list[str]: ...

    def embeddings(self) -> list[tuple[str, np.ndarray]]: ...

    def stats(self) -> CacheStats: ...

    def add_audited_hit(self, hit: AuditedHit) -> None: ...

    def audited_hits(self) -> list[AuditedHit]: ...

    def clear(self) -> int: ...

    def close(self) -> None: ...


class SqliteCache:
    """One connection guarded by a lock; calls take well under a millisecond on local disk."""

    def __init__(
        self, path: Path, *, max_entries: int = 10_000, clock=time.time, storage: StorageReport | None = None
    ) -> None:
        self.path = Path(path)
        self.storage = storage or StorageReport()
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_db(self.path, _SCHEMA, "NORMAL", self.storage)  # a lost answer is re-asked: no need for FULL
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(answers)")}
        if "embedding" not in columns:  # a cache written before semantic matching existed
            self._db.execute("ALTER TABLE answers ADD COLUMN embedding BLOB")

    def _live_row(self, key: str, now: float) -> tuple | None:
        """The unexpired row for `key`; the caller holds the lock."""
        return self._db.execute(
            "SELECT key, question, answer, model, confidence, meta, created, hits FROM answers "
            "WHERE key = ? AND expires > ?",
            (key, now),
        ).fetchone()

    @staticmethod
    def _answer(row: tuple, hits: int) -> CachedAnswer:
        return CachedAnswer(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], hits)

    def peek(self, key: str) -> CachedAnswer | None:
        """Like `get`, but not a hit: no LRU touch, no hit count (for answers used as context)."""
        with self._lock:
            row = self._live_row(key, self._clock())
        return None if row is None else self._answer(row, row[7])

    def get(self, key: str) -> CachedAnswer | None:
        now = self._clock()
        with self._lock:
            row = self._live_row(key, now)
            if row is None:
                return None
            try:
                self._db.execute("UPDATE answers SET last_used = ?, hits = hits + 1 WHERE key = ?", (now, key))
            except sqlite3.Error as exc:  # the answer was read; its LRU touch is worth less than serving it
                self.storage.failed("cache hit count", exc)
                return self._answer(row, row[7])
        return self._answer(row, row[7] + 1)

    def put(
        self,
        *,
        key: str,
        question: str,
        answer: str,
        model: str,
        confidence: float | None,
        meta: dict,
        ttl_s: float,
        embedding: np.ndarray | None = None,
    ) -> list[str]:
        """Stores one answer; returns the keys that expired or fell out of the LRU bound (for vector indexes)."""
        now = self._clock()
        blob = None if embedding is None else np.asarray(embedding, dtype=np.float32).tobytes()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO answers (key, question, answer, model, confidence, meta, created, "
                    "expires, last_used, hits, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                    (key, question, answer, model, confidence, json.dumps(meta), now, now + ttl_s, now, blob),
                )
                gone = self._db.execute("DELETE FROM answers WHERE expires <= ? RETURNING key", (now,)).fetchall()
                gone += self._db.execute(
                    "DELETE FROM answers WHERE key IN (SELECT key FROM answers ORDER BY last_used DESC "
                    "LIMIT -1 OFFSET ?) RETURNING key",
                    (self.max_entries,),
                ).fetchall()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [row[0] for row in gone]

    def embeddings(self) -> list[tuple[str, np.ndarray]]:
        """(key, vector) of every live answer stored with an embedding: rebuilds the semantic index at start."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, embedding FROM answers WHERE embedding IS NOT NULL AND expires > ?", (self._clock(),)
            ).fetchall()
        return [(key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows]

    def stats(self) -> CacheStats:
        with self._lock:
            entries, hits = self._db.execute("SELECT COUNT(*), COALESCE(SUM(hits), 0) FROM answers").fetchone()
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return CacheStats(entries=entries, hits=hits, path=str(self.path), size_bytes=size)

    def add_audited_hit(self, hit: AuditedHit) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO audited_hits VALUES (?, ?, ?, ?)", (hit.key, hit.similarity, hit.agrees, self._clock())
            )

    def audited_hits(self) -> list[AuditedHit]:
        """Every semantic hit audited so far: the thresholds are learned again from them at start."""
        with self._lock:
            rows = self._db.execute("SELECT key, similarity, agrees FROM audited_hits ORDER BY rowid").fetchall()
        return [AuditedHit(key, similarity, bool(agrees)) for key, similarity, agrees in rows]

    def clear(self) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM answers").rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
