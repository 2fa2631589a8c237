"""The one percentile definition every benchmark reports (numpy's linear interpolation between order statistics)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (q in [0, 100]); NaN for no values."""
    data = np.asarray(list(values), dtype=float)
    return float(np.percentile(data, q)) if data.size else float("nan")


def latency_summary(values: Iterable[float]) -> dict:
    """n, p50, p95 and p99 of latencies in milliseconds."""
    data = list(values)
    if not data:
        return {"n": 0}
    return {"n": len(data), **{f"p{q}_ms": percentile(data, q) for q in (50, 95, 99)}}
