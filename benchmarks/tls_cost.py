"""What TLS + mTLS costs on the link: the same 64-token stream over plaintext and over mTLS, side by side.

One cloud service (one engine) listens with mTLS and, through `loopback_port`, in plaintext on 127.0.0.1;
requests alternate between the two channels one at a time, so only the transport differs.
`python -m benchmarks.tls_cost [--n 30] [--backend vllm]` prints p50 TTFT and p50 total time of each and their
ratio, and writes benchmarks/results/tls_cost.json.
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

from benchmarks.harness import RESULTS_DIR, quiet_logs
from cloud.certs import write_dev_certs
from edge.uplink.client import CloudClient
from shared.client_tls import ClientTls
from shared.launchers import CloudProcess, free_port
from shared.types import GenerationRequest, SamplingParams

PROMPT = "Write a long story about a lighthouse keeper and the sea."


async def one_stream(client: CloudClient, i: int, tokens: int) -> tuple[float, float, int]:
    request = GenerationRequest(f"tls-{i}", SamplingParams(max_tokens=tokens), prompt=PROMPT)
    result = await client.generate(request)
    return result.client_ttft_ms, result.client_latency_ms, result.completion_tokens


async def measure(plain: CloudClient, secure: CloudClient, n: int, tokens: int) -> dict[str, list[tuple]]:
    runs: dict[str, list[tuple]] = {"plaintext": [], "mtls": []}
    for client in (plain, secure):  # warm-up: connections, handshakes and engine caches
        await one_stream(client, -1, tokens)
    for i in range(n):
        order = (("plaintext", plain), ("mtls", secure)) if i % 2 == 0 else (("mtls", secure), ("plaintext", plain))
        for name, client in order:
            runs[name].append(await one_stream(client, i, tokens))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=30, help="streams per side")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--backend", default="vllm", choices=["vllm", "llamacpp"])
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "tls_cost.json")
    args = parser.parse_args()
    quiet_logs()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        pki = write_dev_certs(Path(tmp))
        key = "tls-cost-bench-key"
        tls = ClientTls(pki["ca.pem"], pki["client.pem"], pki["client-key.pem"])
        plain_port = free_port()
        flags = ["--backend", args.backend, "--log-level", "WARNING", "--api-keys", key]
        flags += ["--tls-cert", str(pki["server.pem"]), "--tls-key", str(pki["server-key.pem"])]
        flags += ["--tls-client-ca", str(pki["ca.pem"]), "--loopback-port", str(plain_port)]
        print(f"starting the cloud ({args.backend}) with mTLS and a plaintext loopback port ...", flush=True)
        cloud = stack.enter_context(CloudProcess(flags, tls=tls))

        async def run() -> dict[str, list[tuple]]:
            plain = CloudClient(f"127.0.0.1:{plain_port}", key, timeout_s=300)
            async with plain as p, CloudClient(cloud.address, key, 300, cloud.tls) as s:
                return await measure(p, s, args.n, args.tokens)

        started = time.perf_counter()
        runs = asyncio.run(run())
    rows = {
        name: {
            "ttft_ms_p50": round(statistics.median(r[0] for r in values), 2),
            "total_ms_p50": round(statistics.median(r[1] for r in values), 2),
            "tokens_p50": statistics.median(r[2] for r in values),
        }
        for name, values in runs.items()
    }
    report = {
        "backend": args.backend,
        "n": args.n,
        "max_tokens": args.tokens,
        **rows,
        "total_ratio_mtls_vs_plain": round(rows["mtls"]["total_ms_p50"] / rows["plaintext"]["total_ms_p50"], 4),
        "ttft_delta_ms": round(rows["mtls"]["ttft_ms_p50"] - rows["plaintext"]["ttft_ms_p50"], 2),
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    for name, row in rows.items():
        total = f"p50 total {row['total_ms_p50']:8.1f} ms ({row['tokens_p50']} tokens)"
        print(f"{name:9s} p50 TTFT {row['ttft_ms_p50']:8.1f} ms   {total}")
    print(f"mTLS / plaintext p50 total: {report['total_ratio_mtls_vs_plain']:.3f} (target <= 1.05)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
