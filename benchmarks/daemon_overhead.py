"""What the HTTP daemon adds: the same queries in process (Cascade.answer) and through the daemon (keep-alive
HTTP), plus cache-hit latency through HTTP. No cloud is needed: answers are local (route=edge) or cached.

`python -m benchmarks.daemon_overhead [--n 60]` prints p50s and writes benchmarks/results/daemon_overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import RESULTS_DIR
from edge.agent import EdgeAgent
from edge.core.query import Policy, Query
from shared.cli_flags import edge_config
from shared.launchers import DaemonProcess
from shared.service_process import free_port

LOCAL = ["What is the capital of France?", "What is the capital of Germany?", "What is the capital of Spain?"]
CACHED_COUNTRIES = ["Peru", "Chile", "Kenya", "Ghana", "Nepal", "Laos", "Chad", "Mali", "Oman", "Fiji"]
CACHED = [f"What is the capital of {c}?" for c in CACHED_COUNTRIES]
PARAPHRASED = [f"what's {c}'s capital city?" for c in CACHED_COUNTRIES]  # semantic hits of CACHED


def p50(values: list[float]) -> float:
    return statistics.median(values)


async def in_process(data_dir: str, cloud: str, n: int, threads: int) -> list[float]:
    config = edge_config(data_dir, cloud_address=cloud, threads=threads)
    async with EdgeAgent(config) as agent:
        for q in CACHED:  # seeds the cache the daemon will serve from
            query = Query(question=q, style=agent.namespace().style)
            await agent.namespace().labeled.seed_cache(query, "Somewhere", "bench")
        latencies = []
        for i in range(-3, n):  # three warm-up asks, as through HTTP
            started = time.perf_counter()
            await agent.namespace().answer(Query(question=LOCAL[i % len(LOCAL)], policy=Policy(route="edge")))
            if i < 0:
                continue
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def through_http(base_url: str, questions: list[str], n: int, route: str, expect: str | None = None) -> list[float]:
    latencies = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        for i in range(n):
            body = {
                "model": "tandem",
                "messages": [{"role": "user", "content": questions[i % len(questions)]}],
                "tandem": {"route": route},
            }
            started = time.perf_counter()
            reply = http.post("/v1/chat/completions", json=body)
            latencies.append((time.perf_counter() - started) * 1000)
            reply.raise_for_status()
            served_by = reply.json()["tandem"]["served_by"]
            if expect and served_by != expect:
                raise RuntimeError(f"{questions[i % len(questions)]!r} was served by {served_by}, not {expect}")
    return latencies


def measure(n: int, threads: int) -> dict:
    cloud = f"127.0.0.1:{free_port()}"  # nothing listens: no query here needs the cloud
    with tempfile.TemporaryDirectory() as data_dir:
        local_inproc = asyncio.run(in_process(data_dir, cloud, n, threads))
        flags = ["--cloud-address", cloud, "--threads", str(threads), "--log-level", "WARNING"]
        with DaemonProcess(flags, data_dir=data_dir) as daemon:
            through_http(daemon.base_url, LOCAL, 3, "edge")  # warm-up
            local_http = through_http(daemon.base_url, LOCAL, n, "edge")
            cache_http = through_http(daemon.base_url, CACHED, n, "auto", expect="cache")
            semantic_http = through_http(daemon.base_url, PARAPHRASED, n, "auto", expect="cache")
    return {
        "n": n,
        "edge_in_process_p50_ms": p50(local_inproc),
        "edge_http_p50_ms": p50(local_http),
        "daemon_overhead_p50_ms": p50(local_http) - p50(local_inproc),
        "cache_hit_http_p50_ms": p50(cache_http),
        "cache_hit_http_p95_ms": sorted(cache_http)[int(0.95 * (len(cache_http) - 1))],
        "semantic_hit_http_p50_ms": p50(semantic_http),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "daemon_overhead.json")
    args = parser.parse_args()
    row = measure(args.n, args.threads)
    print(
        f"edge answer in process p50 {row['edge_in_process_p50_ms']:.2f} ms, through HTTP p50 "
        f"{row['edge_http_p50_ms']:.2f} ms: daemon overhead {row['daemon_overhead_p50_ms']:.2f} ms"
    )
    print(
        f"cache hit through HTTP: p50 {row['cache_hit_http_p50_ms']:.2f} ms, p95 {row['cache_hit_http_p95_ms']:.2f} ms"
    )
    print(f"semantic (paraphrase) hit through HTTP: p50 {row['semantic_hit_http_p50_ms']:.2f} ms")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), **row}, indent=2))


if __name__ == "__main__":
    main()
