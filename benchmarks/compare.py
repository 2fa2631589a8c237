"""Side by side with the peers, one run each, printed as ratios.

`python -m benchmarks.compare [--parts edge cloud cache]`:
- edge: Tandem's generation with confidence signals vs raw llama-cpp-python generating the same tokens
  (overhead ratio = raw tok/s / Tandem tok/s; target <= 1.03);
- cloud: Tandem's gRPC service vs vLLM's own OpenAI-compatible server on the same model folder, 1 and 16
  concurrent streams (throughput ratio Tandem/vLLM, target >= 1.0; added p50 latency, target <= 5 ms);
- cache: cache-hit latency through the daemon's HTTP API (target <= 5 ms p50).
Writes benchmarks/results/compare.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from llama_cpp import Llama

from benchmarks.daemon_overhead import measure as measure_daemon
from benchmarks.harness import RESULTS_DIR, cloud_for_benchmark, quiet_logs
from cloud.model_prep import default_model_dir
from edge.local.model import default_edge_gguf
from edge.uplink.client import CloudClient
from shared.config import default_data_dir
from shared.llama_runtime import LlamaCppRunner
from shared.prompts import qa_prompt
from shared.service_process import free_port
from shared.types import GenerationRequest, SamplingParams

PROMPTS = ("Tell me about the history of Rome.", "Describe how a bicycle works.", "Write a poem about the sea.")
STORY = "Write a story about a dragon who learns to fly."


def compare_edge(tokens: int, rounds: int, threads: int) -> dict:
    model = default_edge_gguf()
    runner = LlamaCppRunner(model, n_ctx=1024, n_threads=threads)
    raw = Llama(model_path=str(model), n_ctx=1024, n_threads=threads, logits_all=False, verbose=False)
    ours_s = raw_s = 0.0
    ours_n = raw_n = 0
    for _ in range(rounds):
        for q in PROMPTS:
            prompt = qa_prompt(q)
            raw.reset()
            started = time.perf_counter()
            out = raw.create_completion(prompt, max_tokens=tokens, temperature=0.0)
            raw_s += time.perf_counter() - started
            raw_n += out["usage"]["completion_tokens"]
            ids = runner.tokenize(prompt)
            list(runner.stream(ids[:1], SamplingParams(max_tokens=1)))  # drop the KV prefix: same prefill as raw
            started = time.perf_counter()
            ours_n += len(list(runner.stream(ids, SamplingParams(max_tokens=tokens))))
            ours_s += time.perf_counter() - started
    runner.close()
    raw.close()
    ours, theirs = ours_n / ours_s, raw_n / raw_s
    return {"tandem_tok_s": ours, "raw_llamacpp_tok_s": theirs, "overhead_ratio": theirs / ours, "target": 1.03}


async def _tandem_streams(
    address: str, api_key: str, concurrency: int, tokens: int, rounds: int
) -> tuple[list[float], float]:
    latencies, total_tokens, wall = [], 0, 0.0
    async with CloudClient(address, api_key=api_key, timeout_s=300) as client:
        for r in range(rounds):
            reqs = [
                GenerationRequest(f"c{r}-{i}", SamplingParams(max_tokens=tokens), prompt=STORY)
                for i in range(concurrency)
            ]
            started = time.perf_counter()
            results = await asyncio.gather(*(client.generate(q) for q in reqs))
            wall += time.perf_counter() - started
            latencies += [res.client_latency_ms for res in results]
            total_tokens += sum(res.completion_tokens for res in results)
    return latencies, total_tokens / wall


async def _vllm_streams(base: str, model: str, concurrency: int, tokens: int, rounds: int):
    latencies, total_tokens, wall = [], 0, 0.0
    async with httpx.AsyncClient(base_url=base, timeout=300) as http:

        async def one() -> tuple[float, int]:
            started = time.perf_counter()
            n = 0
            body = {
                "model": model,
                "prompt": STORY,
                "max_tokens": tokens,
                "temperature": 0,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
            async with http.stream("POST", "/v1/completions", json=body) as reply:
                async for line in reply.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        usage = json.loads(line[6:]).get("usage")
                        n = usage["completion_tokens"] if usage else n
            return (time.perf_counter() - started) * 1000, n

        for _ in range(rounds):
            started = time.perf_counter()
            results = await asyncio.gather(*(one() for _ in range(concurrency)))
            wall += time.perf_counter() - started
            latencies += [lat for lat, _ in results]
            total_tokens += sum(n for _, n in results)
    return latencies, total_tokens / wall


def _start_vllm_openai(model_dir: Path, port: int) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        "2048",
    ]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"vLLM's OpenAI server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.kill()
    raise RuntimeError("vLLM's OpenAI server did not become healthy")


def compare_cloud(levels: list[int], tokens: int, rounds: int, tandem_address: str | None, api_key: str) -> dict:
    model_dir = default_model_dir(default_data_dir())
    port = free_port()
    print("starting vLLM's OpenAI server ...", flush=True)
    proc = _start_vllm_openai(model_dir, port)
    try:
        base = f"http://127.0.0.1:{port}"
        asyncio.run(_vllm_streams(base, str(model_dir), 1, 4, 1))  # warm-up
        vllm_rows = {c: asyncio.run(_vllm_streams(base, str(model_dir), c, tokens, rounds)) for c in levels}
    finally:
        proc.terminate()
        proc.wait(60)
    with contextlib.ExitStack() as stack:
        address = tandem_address or stack.enter_context(cloud_for_benchmark("vllm")).address
        tandem_rows = {c: asyncio.run(_tandem_streams(address, api_key, c, tokens, rounds)) for c in levels}
    rows = []
    for c in levels:
        (t_lat, t_tps), (v_lat, v_tps) = tandem_rows[c], vllm_rows[c]
        rows.append(
            {
                "concurrency": c,
                "tandem_tok_s": t_tps,
                "vllm_openai_tok_s": v_tps,
                "throughput_ratio": t_tps / v_tps,
                "tandem_p50_ms": statistics.median(t_lat),
                "vllm_openai_p50_ms": statistics.median(v_lat),
                "added_p50_ms": statistics.median(t_lat) - statistics.median(v_lat),
            }
        )
    return {"tokens_per_request": tokens, "rows": rows, "targets": {"throughput_ratio": 1.0, "added_p50_ms": 5.0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", nargs="+", default=["edge", "cloud", "cache"], choices=["edge", "cloud", "cache"])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cloud-address", help="a running Tandem cloud (vLLM backend) instead of starting one")
    parser.add_argument("--cloud-api-key", default="", help="its API key, if it requires one")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "compare.json")
    args = parser.parse_args()
    quiet_logs()
    report: dict = {"date": time.strftime("%Y-%m-%d")}
    if "edge" in args.parts:
        e = report["edge"] = compare_edge(min(args.tokens, 32), args.rounds, args.threads)
        print(
            f"edge: Tandem {e['tandem_tok_s']:.1f} tok/s vs raw llama-cpp-python {e['raw_llamacpp_tok_s']:.1f} "
            f"tok/s: overhead ratio {e['overhead_ratio']:.3f} (target <= 1.03)"
        )
    if "cloud" in args.parts:
        report["cloud"] = compare_cloud(
            args.concurrency, args.tokens, args.rounds, args.cloud_address, args.cloud_api_key
        )
        for r in report["cloud"]["rows"]:
            print(
                f"cloud x{r['concurrency']}: Tandem {r['tandem_tok_s']:.1f} tok/s vs vLLM OpenAI server "
                f"{r['vllm_openai_tok_s']:.1f} tok/s: ratio {r['throughput_ratio']:.3f} (target >= 1.0); "
                f"p50 {r['tandem_p50_ms']:.1f} vs {r['vllm_openai_p50_ms']:.1f} ms: added "
                f"{r['added_p50_ms']:+.1f} ms (target <= 5)"
            )
    if "cache" in args.parts:
        d = report["cache"] = measure_daemon(n=100, threads=args.threads)
        print(f"cache hit through the daemon: p50 {d['cache_hit_http_p50_ms']:.2f} ms (target <= 5)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
