"""The SQLite cache for real: keys, TTL, LRU bound, persistence across reopen, WAL mode."""

from __future__ import annotations

import sqlite3

from edge.cache.store import SqliteCache
from edge.core.keys import cache_key
from shared.types import SamplingParams
from tests.clock import ManualClock

GREEDY = SamplingParams(max_tokens=32, stop=("\n",))


def test_key_normalizes_text_but_not_parameters():
    k = cache_key("What is  the capital of FRANCE?", GREEDY, "few_shot_qa")
    assert k == cache_key("  what is the capital\nof france? ", GREEDY, "few_shot_qa")
    assert k != cache_key("What is the capital of Spain?", GREEDY, "few_shot_qa")
    assert k != cache_key("What is the capital of France?", SamplingParams(max_tokens=8, stop=("\n",)), "few_shot_qa")
    assert k != cache_key("What is the capital of France?", GREEDY, "chat")


def test_put_get_ttl_and_persistence(tmp_path):
    clock = ManualClock(1000.0)
    path = tmp_path / "cache.sqlite"
    cache = SqliteCache(path, clock=clock)
    cache.put(key="k1", question="q", answer="Paris", model="gemma", confidence=0.3, meta={"a": 1}, ttl_s=60)
    hit = cache.get("k1")
    assert hit is not None and hit.answer == "Paris" and hit.model == "gemma" and hit.meta == {"a": 1}
    assert cache.get("missing") is None
    cache.close()

    reopened = SqliteCache(path, clock=clock)
    assert reopened.get("k1").answer == "Paris"
    assert reopened.stats().hits == 2
    clock.t += 61
    assert reopened.get("k1") is None, "expired entries are not served"
    reopened.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_lru_eviction(tmp_path):
    clock = ManualClock(1000.0)
    cache = SqliteCache(tmp_path / "c.sqlite", max_entries=2, clock=clock)
    for key in ("a", "b"):
        clock.t += 1
        cache.put(key=key, question=key, answer=key.upper(), model="m", confidence=None, meta={}, ttl_s=100)
    clock.t += 1
    cache.get("a")  # "b" is now the least recently used
    clock.t += 1
    cache.put(key="c", question="c", answer="C", model="m", confidence=None, meta={}, ttl_s=100)
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
    assert cache.stats().entries == 2
    assert cache.clear() == 2 and cache.stats().entries == 0
