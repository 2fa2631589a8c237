"""Per-device API keys, stored hashed and bound to a tenant; revocations apply without a restart.

A key reads `tdm_<id>_<secret>`: the id finds the record, the SHA-256 of the whole key is what is stored and
compared (in constant time). Keys carry 256 random bits, so a plain hash is enough; a slow KDF buys nothing.
The file is rewritten atomically and re-read by the server whenever it changes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from shared.config.base import check_name
from shared.files import write_atomic

KEY_PREFIX = "tdm_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    tenant: str
    sha256: str
    created: float
    revoked: float | None = None


class KeyStore:
    """The key file, cached in memory and reloaded when its modification time changes."""

    def __init__(self, path: Path, reload_every_s: float = 1.0) -> None:
        self.path = path
        self.reload_every_s = reload_every_s
        self._lock = threading.Lock()
        self._records: dict[str, KeyRecord] = {}
        self._stamp: int | None = None
        self._checked = 0.0
        self._load()

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def _load(self) -> None:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._records, self._stamp = {}, None
            return
        if stamp == self._stamp:
            return
        data = json.loads(self.path.read_text())
        self._records = {r["key_id"]: KeyRecord(**r) for r in data.get("keys", [])}
        self._stamp = stamp

    def _fresh(self) -> dict[str, KeyRecord]:
        now = time.monotonic()
        with self._lock:
            if now - self._checked >= self.reload_every_s:
                self._checked = now
                self._load()
            return self._records

    def _save(self, records: dict[str, KeyRecord]) -> None:
        write_atomic(self.path, json.dumps({"keys": [asdict(r) for r in records.values()]}, indent=1).encode(), 0o600)
        self._records, self._stamp = records, self.path.stat().st_mtime_ns

    def add(self, tenant: str) -> tuple[KeyRecord, str]:
        """A new key for `tenant`; the key itself is returned once and never stored."""
        check_name(tenant, "tenant")
        with self._lock:
            self._load()
            key_id = secrets.token_hex(4)
            while key_id in self._records:
                key_id = secrets.token_hex(4)
            key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
            record = KeyRecord(key_id, tenant, _digest(key), time.time())
            self._save({**self._records, key_id: record})
        return record, key

    def revoke(self, key_id: str) -> KeyRecord:
        with self._lock:
            self._load()
            record = self._records.get(key_id)
            if record is None:
                raise KeyError(f"no key with id '{key_id}'")
            if record.revoked is None:
                record = KeyRecord(record.key_id, record.tenant, record.sha256, record.created, time.time())
                self._save({**self._records, key_id: record})
        return record

    def list(self) -> list[KeyRecord]:
        with self._lock:
            self._load()
            return sorted(self._records.values(), key=lambda r: r.created)

    def tenant_for(self, key: str) -> str | None:
        """The tenant of a valid, unrevoked key; None otherwise."""
        records = self._fresh()
        parts = key.split("_")
        record = records.get(parts[1]) if len(parts) >= 3 and key.startswith(KEY_PREFIX) else None
        # Compare a digest even for unknown ids, so timing does not tell known ids from unknown ones.
        expected = record.sha256 if record is not None else "0" * 64
        if secrets.compare_digest(_digest(key), expected) and record is not None and record.revoked is None:
            return record.tenant
        return None
