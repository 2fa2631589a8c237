"""Brute-force cosine search over the cached questions' unit embeddings, kept in step with the cache's LRU."""

from __future__ import annotations

import threading

import numpy as np


class VectorIndex:
    """One matrix-vector product per search (~1 ms for 10k rows here).

    Rows live in a buffer that doubles when full (amortized O(1) adds, not a copy per add); a removed row is
    filled with the last one, so the live rows stay contiguous.
    """

    def __init__(self, dim: int, capacity: int = 64) -> None:
        self._lock = threading.Lock()
        self._keys: list[str] = []
        self._rows: dict[str, int] = {}
        self._buffer = np.zeros((capacity, dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def capacity(self) -> int:
        return len(self._buffer)

    def add(self, key: str, vector: np.ndarray) -> None:
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                row = len(self._keys)
                if row == len(self._buffer):
                    grown = np.zeros((2 * len(self._buffer), self._buffer.shape[1]), dtype=np.float32)
                    grown[:row] = self._buffer
                    self._buffer = grown
                self._rows[key] = row
                self._keys.append(key)
            self._buffer[row] = vector

    def remove(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                row = self._rows.pop(key, None)
                if row is None:
                    continue
                last = len(self._keys) - 1
                if row != last:
                    moved = self._keys[last]
                    self._buffer[row] = self._buffer[last]
                    self._keys[row] = moved
                    self._rows[moved] = row
                self._keys.pop()

    def search(self, vector: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
        with self._lock:
            n = len(self._keys)
            if not n:
                return []
            sims = self._buffer[:n] @ vector
            top = np.argpartition(-sims, k - 1)[:k] if n > k else np.arange(n)  # O(n), not a full sort
            top = top[np.argsort(-sims[top])]
            return [(self._keys[i], float(sims[i])) for i in top]
