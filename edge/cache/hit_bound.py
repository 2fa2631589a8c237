"""Similarity thresholds learned from audited semantic hits, so that a wrong cached answer stays rare.

vCache's idea in a simple form. Every audited hit says whether the cached answer was right at the similarity it was
served at. Per entry: a hit found wrong at similarity s means that entry is never again served below s (the
question that was asked gets its own entry with the fresh answer). Globally: the threshold is the lowest one, not
below the configured `semantic_threshold`, at which the error rate of the audited hits above it, shrunk toward
`max_error` with 1 / `max_error` pseudo-hits (one expected error), is at most `max_error`: one wrong hit lifts it above
that hit's similarity until about 1 / `max_error` right ones above it say the error is rare anyway.
The reported bound is the exact (Clopper-Pearson) one-sided 95 % upper bound on the error of hits above the
threshold in force.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

from shared.binomial import clopper_pearson_upper

ABOVE = 1e-6  # "never again at or below this similarity"


@dataclass(frozen=True)
class AuditedHit:
    key: str  # the cached entry that answered
    similarity: float
    agrees: bool  # the fresh answer said what the cached one did


@dataclass(frozen=True)
class HitBoundReport:
    threshold: float  # the global similarity threshold in force
    max_error: float
    audited: int  # audited semantic hits
    wrong: int
    tightened: int  # entries with their own, higher threshold
    observed_error: float | None  # wrong / audited among the audited hits above the threshold
    error_bound: float | None  # 95 % upper bound on the error of hits above the threshold (None: no audits)


def learned_threshold(hits: Iterable[AuditedHit], floor: float, max_error: float) -> float:
    """The lowest threshold >= floor whose shrunk error estimate is at most `max_error` (above 1: none is)."""
    prior_hits = 1.0 / max_error
    ordered = sorted(hits, key=lambda h: h.similarity)
    similarities = [h.similarity for h in ordered]
    wrong_from = list(accumulate((not h.agrees for h in reversed(ordered)), initial=0))[::-1]  # wrong at index >= i
    candidates = [floor, *sorted({h.similarity + ABOVE for h in ordered if not h.agrees and h.similarity >= floor})]
    for threshold in candidates:  # one sort and a binary search each: audits accumulate for the device's lifetime
        first = bisect_left(similarities, threshold)
        if (wrong_from[first] + max_error * prior_hits) / (len(ordered) - first + prior_hits) <= max_error:
            return threshold
    return 1.0 + ABOVE


class HitThresholds:
    """The thresholds in force, from every audited hit so far; thread-safe (lookups run in worker threads)."""

    def __init__(self, floor: float, max_error: float, hits: Iterable[AuditedHit] = ()) -> None:
        self.floor = floor
        self.max_error = max_error
        self._lock = threading.Lock()
        self._hits: list[AuditedHit] = []
        self._entry: dict[str, float] = {}
        self._global = floor
        for hit in hits:
            self._add(hit)
        self._refit()

    def _add(self, hit: AuditedHit) -> None:
        self._hits.append(hit)
        if not hit.agrees:
            self._entry[hit.key] = max(self._entry.get(hit.key, 0.0), hit.similarity + ABOVE)

    def _refit(self) -> None:
        self._global = learned_threshold(self._hits, self.floor, self.max_error)

    def record(self, hit: AuditedHit) -> None:
        with self._lock:
            self._add(hit)
            self._refit()

    @property
    def threshold(self) -> float:
        """Below this no entry is served (search stops there)."""
        with self._lock:
            return self._global

    def for_entry(self, key: str) -> float:
        with self._lock:
            return max(self._global, self._entry.get(key, 0.0))

    def report(self) -> HitBoundReport:
        with self._lock:
            above = [h for h in self._hits if h.similarity >= self._global]
            wrong = sum(not h.agrees for h in above)
            return HitBoundReport(
                threshold=self._global,
                max_error=self.max_error,
                audited=len(self._hits),
                wrong=sum(not h.agrees for h in self._hits),
                tightened=len(self._entry),
                observed_error=wrong / len(above) if above else None,
                error_bound=clopper_pearson_upper(wrong, len(above), 0.95) if above else None,
            )
