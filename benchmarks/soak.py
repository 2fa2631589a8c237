"""Soak: many concurrent clients for a while against the daemon (cache hits, edge answers, escalations mixed)
and against the cloud directly; errors, p50/p99 latency and RSS growth of each process.

`python -m benchmarks.soak [--clients 32] [--seconds 60] [--backend vllm]` writes benchmarks/results/soak.json.
RSS is sampled after a warm-up of both at full concurrency and at the end, for each process tree (the vLLM
engine core is a child process).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import grpc
import httpx
import psutil

from benchmarks.harness import RESULTS_DIR, cloud_for_benchmark, quiet_logs
from benchmarks.stats import percentile
from edge.uplink.client import CloudClient
from shared.launchers import DaemonProcess
from shared.types import GenerationRequest, SamplingParams

CACHED = [f"What is the capital of {c}?" for c in ("Peru", "Chile", "Kenya", "Ghana", "Nepal", "Laos")]
LOCAL = ["What is 2 plus 2?", "What is the capital of France?", "Name a primary colour."]
KINDS = ("cache", "edge", "cloud")


def tree_rss_mib(pid: int) -> float:
    process = psutil.Process(pid)
    members = [process, *process.children(recursive=True)]
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def summary(latencies: dict[str, list[float]], errors: dict[str, int], seconds: float) -> dict:
    rows = {}
    for kind in sorted(set(latencies) | set(errors)):
        values = latencies.get(kind, [])
        rows[kind] = {
            "requests": len(values),
            "errors": errors.get(kind, 0),
            "p50_ms": round(statistics.median(values), 1) if values else None,
            "p99_ms": round(percentile(values, 99), 1) if values else None,
        }
    total = sum(len(v) for v in latencies.values())
    return {"kinds": rows, "requests": total, "errors": sum(errors.values()), "req_per_s": round(total / seconds, 2)}


def soak_daemon(base_url: str, clients: int, seconds: float) -> dict:
    """Each client cycles through the three kinds; escalations use fresh questions so they reach the cloud."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    fresh = itertools.count()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            for i in itertools.count(n):
                if time.monotonic() >= stop_at:
                    return
                kind = KINDS[i % 3]
                if kind == "cache":
                    question, route = CACHED[i % len(CACHED)], "auto"
                elif kind == "edge":
                    question, route = LOCAL[i % len(LOCAL)], "edge"
                else:
                    question, route = f"In one word, what rhymes with word number {next(fresh)}?", "cloud"
                body = {
                    "model": "tandem",
                    "messages": [{"role": "user", "content": question}],
                    "max_tokens": 12,
                    "tandem": {"route": route},
                }
                started = time.perf_counter()
                try:
                    reply = http.post("/v1/chat/completions", json=body)
                    ok = reply.status_code == 200 and not reply.json()["tandem"]["degraded"]
                except httpx.HTTPError:
                    ok = False
                with lock:
                    if ok:
                        latencies[kind].append((time.perf_counter() - started) * 1000)
                    else:
                        errors[kind] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summary(latencies, errors, seconds)


async def soak_cloud(address: str, clients: int, seconds: float) -> dict:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    stop_at = time.monotonic() + seconds
    async with CloudClient(address, timeout_s=120) as cloud:

        async def client(n: int) -> None:
            for i in itertools.count():
                if time.monotonic() >= stop_at:
                    return
                request = GenerationRequest(
                    f"soak-{n}-{i}", SamplingParams(max_tokens=16), prompt=f"Tell me about the number {n * 1000 + i}."
                )
                started = time.perf_counter()
                try:
                    await cloud.generate(request)
                    latencies["generate"].append((time.perf_counter() - started) * 1000)
                except grpc.aio.AioRpcError:
                    errors["generate"] += 1

        await asyncio.gather(*(client(n) for n in range(clients)))
    return summary(latencies, errors, seconds)


def growth(before: float, after: float) -> dict:
    return {"before_mib": round(before, 1), "after_mib": round(after, 1), "growth": round(after / before - 1, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup-seconds", type=float, default=10.0, help="load before the first RSS sample")
    parser.add_argument("--backend", default="vllm", choices=["vllm", "llamacpp"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "soak.json")
    args = parser.parse_args()
    quiet_logs()
    concurrency = ["--max-concurrent-requests", str(2 * args.clients)]  # the soak measures errors, not the cap
    with cloud_for_benchmark(args.backend, concurrency) as cloud, tempfile.TemporaryDirectory() as data_dir:
        flags = ["--cloud-address", cloud.address, "--threads", str(args.threads), "--log-level", "WARNING"]
        with DaemonProcess(flags, data_dir=data_dir) as daemon:
            for question in CACHED:  # seed the cache: these are cache hits from then on
                httpx.post(
                    f"{daemon.base_url}/v1/chat/completions",
                    json={"model": "tandem", "messages": [{"role": "user", "content": question}], "max_tokens": 12,
                          "tandem": {"route": "cloud"}},
                    timeout=120,
                ).raise_for_status()  # fmt: skip
            # Both warmed up at full concurrency first: an engine's batch buffers grow to the load they see once.
            print(f"warming up {args.warmup_seconds:.0f} s each ...", flush=True)
            soak_daemon(daemon.base_url, args.clients, args.warmup_seconds)
            asyncio.run(soak_cloud(cloud.address, args.clients, args.warmup_seconds))
            rss0 = {"daemon": tree_rss_mib(daemon.pid), "cloud": tree_rss_mib(cloud.pid)}
            print(f"daemon: {args.clients} clients x {args.seconds:.0f} s ...", flush=True)
            daemon_run = soak_daemon(daemon.base_url, args.clients, args.seconds)
            print(f"cloud: {args.clients} clients x {args.seconds:.0f} s ...", flush=True)
            cloud_run = asyncio.run(soak_cloud(cloud.address, args.clients, args.seconds))
            rss1 = {"daemon": tree_rss_mib(daemon.pid), "cloud": tree_rss_mib(cloud.pid)}
    report = {
        "clients": args.clients,
        "seconds": args.seconds,
        "backend": args.backend,
        "daemon": daemon_run,
        "cloud": cloud_run,
        "rss": {name: growth(rss0[name], rss1[name]) for name in rss0},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    for name, run in (("daemon", daemon_run), ("cloud", cloud_run)):
        print(f"{name}: {run['requests']} requests, {run['errors']} errors, {run['req_per_s']} req/s")
        for kind, row in run["kinds"].items():
            latency = f"p50={row['p50_ms']} ms p99={row['p99_ms']} ms"
            print(f"  {kind:9s} n={row['requests']:5d} errors={row['errors']} {latency}")
    for name, rss in report["rss"].items():
        print(f"RSS {name}: {rss['before_mib']} -> {rss['after_mib']} MiB ({rss['growth']:+.1%})")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
