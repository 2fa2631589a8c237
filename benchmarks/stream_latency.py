"""Time to the first content chunk through the daemon vs the cloud service's own time to first token.

`python -m benchmarks.stream_latency [--cloud-address HOST:PORT] [--n 30]` starts (or uses) a cloud service
and a daemon in front of it (answer cache off, so every request reaches the cloud), then alternates, for the
same rendered prompt: one gRPC stream straight to the cloud (its TTFT) and one SSE request through the daemon
(its first content chunk), routed to the cloud before generation and, separately, escalated after an edge
draft. Writes benchmarks/results/stream_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import RESULTS_DIR, add_cloud_args, cloud_for_benchmark, quiet_logs, write_result
from edge.core.query import Query
from edge.uplink.client import CloudClient
from shared.launchers import DaemonProcess
from shared.types import GenerationRequest

COUNTRIES = ["Peru", "Chile", "Kenya", "Ghana", "Nepal", "Laos", "Chad", "Mali", "Oman", "Fiji", "Iran", "Cuba"]


def question(i: int) -> str:
    return f"What is the capital of {COUNTRIES[i % len(COUNTRIES)]}?"


async def cloud_ttft(client: CloudClient, text: str, i: int) -> float:
    query = Query(question=text, request_id=f"direct-{i}")
    prompt, messages = query.rendered()
    started = time.perf_counter()
    async for message in client.stream(GenerationRequest(query.request_id, query.sampling, prompt, messages)):
        if message.HasField("delta") and message.delta.text.strip():
            return (time.perf_counter() - started) * 1000
    raise RuntimeError("the cloud sent no content")


def daemon_first_chunk(http: httpx.Client, text: str, tandem: dict) -> tuple[float, int, str]:
    """(ms to the first content chunk, content chunks, served_by)."""
    first, _, chunks, served_by = daemon_stream(http, text, tandem)
    return first, chunks, served_by


def daemon_stream(http: httpx.Client, text: str, tandem: dict) -> tuple[float, float, int, str]:
    """(ms to the first content chunk, ms to the end, content chunks, served_by) of one streamed chat answer."""
    body = {"model": "tandem", "stream": True, "messages": [{"role": "user", "content": text}], "tandem": tandem}
    started = time.perf_counter()
    first, chunks, served_by = None, 0, ""
    with http.stream("POST", "/v1/chat/completions", json=body) as reply:
        reply.raise_for_status()
        for line in reply.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if event["choices"] and event["choices"][0]["delta"].get("content"):
                first = first or (time.perf_counter() - started) * 1000
                chunks += 1
            served_by = event.get("tandem", {}).get("served_by", served_by)
    if first is None:
        raise RuntimeError("the daemon sent no content")
    return first, (time.perf_counter() - started) * 1000, chunks, served_by


async def measure(cloud_address: str, api_key: str, n: int, threads: int) -> dict:
    flags = ["--cloud-address", cloud_address, "--cloud-api-key", api_key, "--threads", str(threads)]
    flags += ["--cache-enabled", "false"]
    flags += ["--router-enabled", "false", "--log-level", "WARNING"]
    rows: dict[str, list[float]] = {"cloud_ttft": [], "daemon_routed_cloud": [], "daemon_escalated": []}
    chunk_counts = []
    with tempfile.TemporaryDirectory() as data_dir, DaemonProcess(flags, data_dir=data_dir) as daemon:
        async with CloudClient(cloud_address, api_key=api_key, timeout_s=60) as client:
            with httpx.Client(base_url=daemon.base_url, timeout=60) as http:
                for i in range(-2, n):  # two warm-up rounds
                    text = question(i)
                    direct = await cloud_ttft(client, text, i)
                    routed, chunks, by = await asyncio.to_thread(daemon_first_chunk, http, text, {"route": "cloud"})
                    escalated, _, by2 = await asyncio.to_thread(daemon_first_chunk, http, text, {"threshold": 1.0})
                    if by != "cloud" or by2 != "cloud":
                        raise RuntimeError(f"expected cloud answers, got {by} and {by2}")
                    if i >= 0:
                        rows["cloud_ttft"].append(direct)
                        rows["daemon_routed_cloud"].append(routed)
                        rows["daemon_escalated"].append(escalated)
                        chunk_counts.append(chunks)
    p50 = {name: statistics.median(values) for name, values in rows.items()}
    return {
        "n": n,
        "p50_ms": p50,
        "added_p50_ms": p50["daemon_routed_cloud"] - p50["cloud_ttft"],
        "content_chunks_p50": statistics.median(chunk_counts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_cloud_args(parser)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "stream_latency.json")
    args = parser.parse_args()
    quiet_logs()
    with contextlib.ExitStack() as stack:
        address = args.cloud_address or stack.enter_context(cloud_for_benchmark()).address
        row = asyncio.run(measure(address, args.cloud_api_key, args.n, args.threads))
    p = row["p50_ms"]
    print(f"cloud TTFT p50 {p['cloud_ttft']:.1f} ms (gRPC, straight to the cloud)")
    print(
        f"daemon first content chunk p50: routed to the cloud {p['daemon_routed_cloud']:.1f} ms "
        f"(+{row['added_p50_ms']:.1f} ms, target <= +15 ms), escalated after an edge draft "
        f"{p['daemon_escalated']:.1f} ms; {row['content_chunks_p50']:.0f} content chunks per answer"
    )
    write_result(args.out, row)


if __name__ == "__main__":
    main()
