"""Side by side with the peers, printed as ratios.

`python -m benchmarks.compare [--parts edge cloud cache]`:
- edge: Tandem's generation with confidence signals vs raw llama-cpp-python generating the same tokens
  (overhead ratio = raw tok/s / Tandem tok/s; target <= 1.03);
- cloud: Tandem's gRPC service (in-process engine, and on Ray Serve with 1 and 2 replicas) vs vLLM's own
  OpenAI-compatible and gRPC servers on the same model folder, at 1, 16 and 32 concurrent streams from separate
  client processes (throughput ratio Tandem/vLLM, target >= 1.0; p50 TTFT added, target <= 5 ms; Ray with
  1 replica vs in-process, target >= 0.95) — see benchmarks.compare_cloud;
- cache: cache-hit latency through the daemon's HTTP API (target <= 5 ms p50).
Writes benchmarks/results/compare.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from llama_cpp import Llama

from benchmarks.compare_cloud import PEERS, Running, compare_cloud, print_rows
from benchmarks.daemon_overhead import measure as measure_daemon
from benchmarks.harness import RESULTS_DIR, quiet_logs
from edge.local.model import local_gguf
from shared.config import load_config
from shared.llama_runtime import LlamaCppRunner
from shared.prompts import qa_prompt
from shared.types import SamplingParams

PROMPTS = ("Tell me about the history of Rome.", "Describe how a bicycle works.", "Write a poem about the sea.")
STORY = "Write a story about a dragon who learns to fly."


def compare_edge(tokens: int, rounds: int, threads: int) -> dict:
    config = load_config()
    model = local_gguf(config.edge.local, config.data_dir)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", nargs="+", default=["edge", "cloud", "cache"], choices=["edge", "cloud", "cache"])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 32])
    parser.add_argument(
        "--peers", nargs="+", default=list(PEERS), choices=PEERS, help="servers measured against Tandem"
    )
    parser.add_argument("--cloud-address", default="", help="a running Tandem cloud (vLLM backend) as peer 'tandem'")
    parser.add_argument("--cloud-api-key", default="", help="its API key, if it requires one")
    parser.add_argument("--threads", type=int, default=2)
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
        running = Running(args.cloud_address, args.cloud_api_key)
        report["cloud"] = compare_cloud(args.peers, args.concurrency, args.tokens, args.rounds, running)
        print_rows(report["cloud"])
    if "cache" in args.parts:
        d = report["cache"] = measure_daemon(n=100, threads=args.threads)
        print(f"cache hit through the daemon: p50 {d['cache_hit_http_p50_ms']:.2f} ms (target <= 5)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
