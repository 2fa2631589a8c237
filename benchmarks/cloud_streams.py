"""Cloud service throughput: time to first token and tokens/s for 1 and N concurrent streams.

`python -m benchmarks.cloud_streams [--backend vllm] [--concurrency 1 8] [--tokens 64]`
starts the service on 127.0.0.1, measures, prints a table and writes benchmarks/results/cloud_streams.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from pathlib import Path

from benchmarks.harness import RESULTS_DIR, cloud_for_benchmark
from edge.uplink.client import CloudClient
from shared.types import GenerationRequest, SamplingParams

PROMPT = "Write a story about a dragon who learns to fly."


async def measure(address: str, concurrency: int, tokens: int, rounds: int) -> dict:
    async with CloudClient(address, timeout_s=300) as client:
        ttfts: list[float] = []
        per_stream: list[float] = []
        total_tokens = 0
        wall = 0.0
        for r in range(rounds):
            requests = [
                GenerationRequest(
                    f"b-{concurrency}-{r}-{i}", SamplingParams(max_tokens=tokens), prompt=PROMPT, top_logprobs=1
                )
                for i in range(concurrency)
            ]
            started = time.perf_counter()
            results = await asyncio.gather(*(client.generate(q) for q in requests))
            wall += time.perf_counter() - started
            for res in results:
                ttfts.append(res.client_ttft_ms)
                decode_s = max((res.client_latency_ms - res.client_ttft_ms) / 1000, 1e-9)
                per_stream.append((res.completion_tokens - 1) / decode_s)
                total_tokens += res.completion_tokens
    return {
        "concurrency": concurrency,
        "ttft_ms_p50": statistics.median(ttfts),
        "stream_tok_s_p50": statistics.median(per_stream),
        "aggregate_tok_s": total_tokens / wall,
        "requests": len(ttfts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="vllm", choices=["vllm", "llamacpp"])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "cloud_streams.json")
    args = parser.parse_args()
    with cloud_for_benchmark(args.backend) as cloud:
        rows = [asyncio.run(measure(cloud.address, c, args.tokens, args.rounds)) for c in args.concurrency]
        startup = cloud.startup_seconds
    print(f"service ready in {startup:.1f} s ({args.backend})")
    print(f"{'streams':>8} {'TTFT p50 ms':>12} {'tok/s/stream':>13} {'aggregate tok/s':>16}")
    for row in rows:
        print(
            f"{row['concurrency']:>8} {row['ttft_ms_p50']:>12.1f} {row['stream_tok_s_p50']:>13.1f} "
            f"{row['aggregate_tok_s']:>16.1f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d"),
                "machine": platform.machine(),
                "backend": args.backend,
                "startup_s": startup,
                "tokens_per_request": args.tokens,
                "rows": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
