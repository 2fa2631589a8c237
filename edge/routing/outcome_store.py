"""Labeled outcomes the router learns from, kept on disk (SQLite).

Sources (`edge.core.protocols`): `tandem-edge calibrate` (both sides labeled: was the edge right, was the cloud
right), app feedback through the daemon (one side: whoever served the answer), and the cloud as a teacher
(agreement of an escalated draft with the cloud's answer, and audits of answers kept local: the edge side only).
The daemon also remembers what it served, by response id, so feedback can be tied to a question and a side.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from edge.core.protocols import CALIBRATION
from edge.sqlite_db import StorageReport, open_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question TEXT NOT NULL,
    embedding BLOB NOT NULL,
    edge_correct INTEGER,
    cloud_correct INTEGER,
    source TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS label_features (
    outcome_id INTEGER PRIMARY KEY,  -- outcomes.id; read through a join, so a removed outcome drops out
    features BLOB NOT NULL,
    edge_model TEXT NOT NULL  -- the model whose draft they describe: another model's do not refit this one's rule
);
CREATE TABLE IF NOT EXISTS served (
    response_id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    served_by TEXT NOT NULL,
    embedding BLOB,
    created REAL NOT NULL
);
"""


class OutcomeSource(Protocol):
    def all(self) -> OutcomeRows: ...


@dataclass(frozen=True)
class OutcomeRows:
    """Labeled outcomes as columns; unknown labels are NaN."""

    embeddings: np.ndarray  # (n, dim) float32
    edge_correct: np.ndarray
    cloud_correct: np.ndarray
    sources: np.ndarray  # (n,) str

    def all(self) -> OutcomeRows:
        """The rows as an outcome source themselves: replays fit on these."""
        return self

    @classmethod
    def empty(cls) -> OutcomeRows:
        return cls(np.zeros((0, 0), np.float32), np.zeros(0), np.zeros(0), np.zeros(0, dtype=str))

    @classmethod
    def concat(cls, parts: list[OutcomeRows]) -> OutcomeRows:
        parts = [p for p in parts if len(p.sources)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))


@dataclass(frozen=True)
class StoredLabel:
    id: int
    question: str
    embedding: np.ndarray
    edge_correct: float | None
    cloud_correct: float | None
    source: str
    created: float


@dataclass(frozen=True)
class ServedAnswer:
    response_id: str
    question: str
    served_by: str
    embedding: np.ndarray | None


class OutcomeStore:
    def __init__(self, path: Path, *, max_served: int = 100_000, storage: StorageReport | None = None) -> None:
        self._lock = threading.Lock()
        self._db = open_db(path, _SCHEMA, "NORMAL", storage or StorageReport())
        self.max_served = max_served

    def add(
        self,
        *,
        question: str,
        embedding: np.ndarray,
        edge_correct: bool | None,
        cloud_correct: float | None,  # a teacher's label may be soft: the cloud's confidence in its answer
        source: str,
        features: np.ndarray | None = None,
        edge_model: str = "",
    ) -> None:
        """`features`: the draft's decision-time features (`edge.confidence.learned`) and the `edge_model` that
        drafted it, for refitting the rule."""
        with self._lock:
            row = self._db.execute(
                "INSERT INTO outcomes (question, embedding, edge_correct, cloud_correct, source, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    question,
                    np.asarray(embedding, np.float32).tobytes(),
                    edge_correct,
                    cloud_correct,
                    source,
                    time.time(),
                ),
            )
            if features is not None:
                self._db.execute(
                    "INSERT INTO label_features (outcome_id, features, edge_model) VALUES (?, ?, ?)",
                    (row.lastrowid, np.asarray(features, np.float64).tobytes(), edge_model),
                )

    def featured(self, edge_model: str, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(features, edge right, source) of every edge-side label stored with the features of a draft by
        `edge_model`, `width` of them (a feature set of another version is skipped)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT f.features, o.edge_correct, o.source FROM label_features f "
                "JOIN outcomes o ON o.id = f.outcome_id WHERE o.edge_correct IS NOT NULL AND f.edge_model = ? "
                "AND length(f.features) = ? ORDER BY o.id",
                (edge_model, 8 * width),
            ).fetchall()
        if not rows:
            return np.zeros((0, width)), np.zeros(0), np.zeros(0, dtype=str)
        x = np.stack([np.frombuffer(r[0], dtype=np.float64) for r in rows])
        return x, np.array([float(r[1]) for r in rows]), np.array([r[2] for r in rows])

    def replace_labeled(self, rows: list[tuple[str, np.ndarray, bool, bool]], source: str) -> None:
        """Both-sided labels (calibration): a question labeled again replaces its earlier labels from `source`."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for question, vector, edge_ok, cloud_ok in rows:
                    self._db.execute("DELETE FROM outcomes WHERE question = ? AND source = ?", (question, source))
                    self._db.execute(
                        "INSERT INTO outcomes (question, embedding, edge_correct, cloud_correct, source, created) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (question, np.asarray(vector, np.float32).tobytes(), edge_ok, cloud_ok, source, now),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def all(self, only_source: str | None = None) -> OutcomeRows:
        """Every labeled outcome, or those of one source."""
        query = "SELECT embedding, edge_correct, cloud_correct, source FROM outcomes"
        with self._lock:
            rows = self._db.execute(
                query + (" WHERE source = ?" if only_source else ""), (only_source,) if only_source else ()
            ).fetchall()
        if not rows:
            return OutcomeRows.empty()
        as_float = lambda v: np.nan if v is None else float(v)  # noqa: E731
        return OutcomeRows(
            np.stack([np.frombuffer(r[0], dtype=np.float32) for r in rows]),
            np.array([as_float(r[1]) for r in rows]),
            np.array([as_float(r[2]) for r in rows]),
            np.array([r[3] for r in rows]),
        )

    def labels_after(self, last_id: int, sources: tuple[str, ...], limit: int) -> list[StoredLabel]:
        """Labels of these sources stored after `last_id`, oldest first (a device's uploads resume from there)."""
        marks = ",".join("?" * len(sources))
        with self._lock:
            rows = self._db.execute(
                "SELECT id, question, embedding, edge_correct, cloud_correct, source, created FROM outcomes "
                f"WHERE id > ? AND source IN ({marks}) ORDER BY id LIMIT ?",
                (last_id, *sources, limit),
            ).fetchall()
        return [StoredLabel(r[0], r[1], np.frombuffer(r[2], np.float32), r[3], r[4], r[5], r[6]) for r in rows]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0]

    def remember_served(self, *, response_id: str, question: str, served_by: str, embedding: np.ndarray | None) -> None:
        blob = None if embedding is None else np.asarray(embedding, np.float32).tobytes()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO served (response_id, question, served_by, embedding, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (response_id, question, served_by, blob, time.time()),
            )
            self._db.execute(
                "DELETE FROM served WHERE response_id IN (SELECT response_id FROM served ORDER BY created DESC "
                "LIMIT -1 OFFSET ?)",
                (self.max_served,),
            )

    def served(self, response_id: str) -> ServedAnswer | None:
        with self._lock:
            row = self._db.execute(
                "SELECT response_id, question, served_by, embedding FROM served WHERE response_id = ?",
                (response_id,),
            ).fetchone()
        if row is None:
            return None
        return ServedAnswer(row[0], row[1], row[2], None if row[3] is None else np.frombuffer(row[3], np.float32))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class LayeredOutcomes:
    """What one app's router learns from: the operator's calibration (shared) and that app's own labels.

    Only calibration labels are read from the shared store, so one app cannot steer another's routing.
    """

    def __init__(self, shared: OutcomeStore, own: OutcomeStore) -> None:
        self.shared = shared
        self.own = own

    def all(self) -> OutcomeRows:
        return OutcomeRows.concat([self.shared.all(only_source=CALIBRATION), self.own.all()])
