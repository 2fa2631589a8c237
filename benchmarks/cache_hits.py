"""Cache-hit latency of the cascade, in process: normalized key, SQLite lookup, result assembly.

`python -m benchmarks.cache_hits [--n 500]` fills a fresh cache with answers for a few questions, asks them
again through `Cascade.answer`, prints p50/p95/p99 and writes benchmarks/results/cache_hits.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from benchmarks.harness import RESULTS_DIR, edge_agent_for_benchmark
from benchmarks.stats import percentile
from edge.core.query import Query
from shared.launchers import free_port

QUESTIONS = [f"What is the capital of country number {i}?" for i in range(20)]


async def measure(n: int) -> list[float]:
    # No cloud is needed: every question is a hit.
    async with edge_agent_for_benchmark(f"127.0.0.1:{free_port()}", cache_enabled=True) as agent:
        namespace = agent.namespace()
        for q in QUESTIONS:
            query = Query(question=q, style=namespace.style)
            await namespace.labeled.seed_cache(query, "Somewhere", "bench")
        latencies = []
        for i in range(n):
            started = time.perf_counter()
            result = await namespace.answer(Query(question=QUESTIONS[i % len(QUESTIONS)], style=namespace.style))
            latencies.append((time.perf_counter() - started) * 1000)
            assert result.served_by == "cache"
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "cache_hits.json")
    args = parser.parse_args()
    lat = asyncio.run(measure(args.n))
    row = {
        "n": args.n,
        "p50_ms": statistics.median(lat),
        "p95_ms": percentile(lat, 95),
        "p99_ms": percentile(lat, 99),
    }
    print(
        f"cache hit through the cascade: p50 {row['p50_ms']:.3f} ms, p95 {row['p95_ms']:.3f} ms, "
        f"p99 {row['p99_ms']:.3f} ms over {args.n} asks"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), **row}, indent=2))


if __name__ == "__main__":
    main()
