"""Latency per path and cost per 1,000 queries.

`python -m benchmarks.latency [--cloud-address HOST:PORT | --backend vllm] [--n 100]`:
1. calibrates the configured estimator on the calibration split for a 50 % cloud share (memoized answers);
2. runs `--n` evaluation questions through the live cascade with that threshold, then asks the escalated ones
   again (cache hits), and a few with the cloud unreachable (degraded): p50/p95/p99 of total latency per path;
3. time to first token of the edge model and of the cloud service;
4. cost per 1,000 queries for edge only, cloud only and the calibrated cascade (configurable cost model).
Writes benchmarks/results/latency.json.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import aclosing
from pathlib import Path

import numpy as np

from benchmarks.harness import RESULTS_DIR, add_labeled_run_args, edge_agent_for_benchmark, run_against_cloud
from benchmarks.stats import latency_summary
from edge.calibration.curves import cascade_curve, evaluate_threshold, threshold_for_share
from edge.calibration.labeled import builtin, split
from edge.calibration.outcomes import Outcome, collect_outcomes, outcome_arrays
from edge.core.query import Policy, Query
from edge.local.model import load_local_model
from edge.uplink.client import CloudClient
from shared.config import CostConfig, TandemConfig
from shared.cost import answer_cost
from shared.prompts import render_question
from shared.service_process import free_port
from shared.types import GenerationRequest, SamplingParams


def costs_per_1000(outcomes: list[Outcome], escalate: np.ndarray, cost: CostConfig) -> dict:
    edge = np.array([answer_cost(cost, o.edge.seconds, 0, 0) for o in outcomes])
    cloud = np.array(
        [answer_cost(cost, 0.0, o.cloud.prompt_tokens, o.cloud.completion_tokens) if o.cloud else 0.0 for o in outcomes]
    )
    return {
        "edge_only": float(edge.mean() * 1000),
        "cloud_only": float(cloud.mean() * 1000),
        # the cascade always pays the edge, and the cloud for what it escalates
        "cascade": float((edge + np.where(escalate, cloud, 0.0)).mean() * 1000),
    }


async def ttft(config: TandemConfig, questions: list[str]) -> dict:
    """First-token latency of each side alone: the raw edge model (its own context) and the cloud RPC."""
    edge, cloud = [], []
    runner = load_local_model(config.edge.local, config.data_dir)
    try:
        async with CloudClient.from_config(config.edge.uplink) as client:
            for q in questions:
                prompt, messages, _ = render_question(q, config.edge.local.rendering)
                ids = runner.tokenize_chat(messages) if messages else runner.tokenize(prompt or "")
                started = time.perf_counter()
                async with aclosing(runner.astream(ids, SamplingParams(max_tokens=4))) as stream:
                    async for _ in stream:
                        edge.append((time.perf_counter() - started) * 1000)
                        break
                request = GenerationRequest("ttft", SamplingParams(max_tokens=4), question=q)
                cloud.append((await client.generate(request)).client_ttft_ms)
    finally:
        runner.close()
    return {"edge": latency_summary(edge), "cloud": latency_summary(cloud)}


async def run(args: argparse.Namespace, cloud_address: str) -> dict:
    calibration, evaluation = split(builtin(args.sets.split(",")), seed=args.seed)
    evaluation = evaluation[: args.n]
    async with edge_agent_for_benchmark(cloud_address, args.threads) as agent:
        estimator = agent.namespace().estimator
        info = await agent.cloud_info()
        cal = await collect_outcomes(agent.namespace(), calibration, args.memo, cloud=info)
        ev = await collect_outcomes(agent.namespace(), evaluation, args.memo, cloud=info)
        threshold = threshold_for_share(cascade_curve(*outcome_arrays(cal, estimator)), 0.5).threshold
        held = evaluate_threshold(*outcome_arrays(ev, estimator), threshold)
        cost = agent.config.cost
        escalate = outcome_arrays(ev, estimator)[0] < threshold
        first_tokens = await ttft(agent.config, [i.question for i in evaluation[:20]])

    paths: dict[str, list[float]] = {"cache": [], "edge": [], "cloud": [], "degraded": []}
    async with edge_agent_for_benchmark(cloud_address, args.threads, cache_enabled=True) as agent:
        policy = Policy(threshold=threshold)
        escalated = []
        for item in evaluation:
            r = await agent.namespace().answer(Query(question=item.question, policy=policy))
            paths[r.served_by].append(r.timings.total_ms)
            if r.served_by == "cloud":
                escalated.append(item.question)
        for question in escalated:
            paths["cache"].append(
                (await agent.namespace().answer(Query(question=question, policy=policy))).timings.total_ms
            )
    async with edge_agent_for_benchmark(
        f"127.0.0.1:{free_port()}", args.threads, cloud_breaker_failures=10**6
    ) as agent:
        for item in evaluation[: args.degraded]:
            r = await agent.namespace().answer(Query(question=item.question, policy=Policy(threshold=1.0)))
            paths["degraded"].append(r.timings.total_ms)

    return {
        "date": time.strftime("%Y-%m-%d"),
        "estimator": estimator.name,
        "threshold_for_50pct_cloud_share": threshold,
        "held_out": {"cloud_share": held.cloud_share, "accuracy": held.accuracy},
        "latency_by_path": {k: latency_summary(v) for k, v in paths.items()},
        "time_to_first_token": first_tokens,
        "cost_model": cost.model_dump(),
        "cost_per_1000_queries": costs_per_1000(ev, escalate, cost),
        "accuracy": {
            "edge_only": float(np.mean([o.edge_correct for o in ev])),
            "cloud_only": float(np.mean([o.cloud_correct for o in ev])),
            "cascade": held.accuracy,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_labeled_run_args(parser)
    parser.add_argument("--n", type=int, default=100, help="evaluation questions through the live cascade")
    parser.add_argument("--degraded", type=int, default=20, help="questions asked with the cloud unreachable")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "latency.json")
    args = parser.parse_args()
    report = run_against_cloud(args, run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(
        f"threshold {report['threshold_for_50pct_cloud_share']:.4f} ({report['estimator']}), held-out share "
        f"{report['held_out']['cloud_share']:.2f}, accuracy {report['held_out']['accuracy']:.3f}"
    )
    print(f"{'path':<10}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for path, row in report["latency_by_path"].items():
        if row["n"]:
            print(f"{path:<10}{row['n']:>5}{row['p50_ms']:>10.1f}{row['p95_ms']:>10.1f}{row['p99_ms']:>10.1f}")
    t = report["time_to_first_token"]
    print(f"time to first token p50: edge {t['edge']['p50_ms']:.1f} ms, cloud {t['cloud']['p50_ms']:.1f} ms")
    c, a = report["cost_per_1000_queries"], report["accuracy"]
    for name in ("edge_only", "cloud_only", "cascade"):
        print(f"cost per 1,000 queries, {name:<10}: {c[name]:.4f}  (accuracy {a[name]:.3f})")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
