"""One way to open the edge's SQLite files: WAL, autocommit, shared by threads behind the caller's lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal


def open_db(path: Path, schema: str, synchronous: Literal["NORMAL", "FULL"]) -> sqlite3.Connection:
    """WAL with NORMAL survives process crashes; FULL also survives power loss, at a few ms per commit."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.executescript(schema)
    return db
