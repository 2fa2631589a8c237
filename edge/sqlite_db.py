"""One way to open the edge's SQLite files (WAL, autocommit, shared by threads behind the caller's lock), and
the report of how the disk behaves (one per edge agent, handed to every store it opens).

A file that is not a database, or fails SQLite's quick check, is moved aside and rebuilt empty at start: the
edge's files hold caches and learned outcomes, which are worth less than a daemon that starts. Failed writes
(a full disk) are counted here and shown in /healthz; callers on the request path degrade instead of failing.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)


@dataclass
class StorageReport:
    write_errors: int = 0
    last_error: str | None = None
    last_error_at: float | None = None
    last_write_ok_at: float | None = None
    recovered: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def failed(self, what: str, exc: BaseException) -> None:
        with self._lock:
            self.write_errors += 1
            self.last_error, self.last_error_at = f"{what}: {exc}", time.time()
        log.error("local storage write failed; answering without it", extra={"what": what, "error": str(exc)})

    def ok(self) -> None:
        self.last_write_ok_at = time.time()

    @property
    def healthy(self) -> bool:
        """False from a failed write until a later write succeeds."""
        return self.last_error_at is None or (self.last_write_ok_at or 0) > self.last_error_at

    def as_dict(self) -> dict:
        return {
            "ok": self.healthy,
            "write_errors": self.write_errors,
            "last_error": self.last_error,
            "recovered": list(self.recovered),
        }


def _intact(path: Path) -> str | None:
    """None when the file is a sound database; otherwise what is wrong with it."""
    try:
        with sqlite3.connect(str(path)) as probe:
            result = probe.execute("PRAGMA quick_check").fetchone()[0]
        probe.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result == "ok" else result


def _move_aside(path: Path, problem: str, storage: StorageReport) -> Path:
    aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.rename(aside.with_name(aside.name + suffix))
    storage.recovered.append({"file": str(path), "moved_to": str(aside), "problem": problem})
    log.error("corrupt SQLite file moved aside and rebuilt", extra={"file": str(path), "problem": problem})
    return aside


def open_db(
    path: Path, schema: str, synchronous: Literal["NORMAL", "FULL"], storage: StorageReport
) -> sqlite3.Connection:
    """WAL with NORMAL survives process crashes; FULL also survives power loss, at a few ms per commit. A corrupt
    file moved aside is recorded in `storage`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and (problem := _intact(path)) is not None:
        _move_aside(path, problem, storage)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.executescript(schema)
    return db
