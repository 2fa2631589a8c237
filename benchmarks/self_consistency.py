"""Self-consistency on the edge: do k sampled answers that agree with the greedy one predict it is right?

`python -m benchmarks.self_consistency [--sets all] [--n 150] [--k 4] [--temperature 0.7]` draws k extra edge
answers per evaluation question (the product's own local generation, seeds 1..k, memoized), scores each
question by the share of samples that agree with the greedy answer, and compares its AUROC for "the edge is
right" with the log-prob estimator's, alone and averaged with it, against the edge time it costs.
Writes benchmarks/results/self_consistency.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.harness import RESULTS_DIR, add_labeled_run_args, edge_agent_for_benchmark, run_against_cloud
from edge.calibration.curves import roc_auc
from edge.calibration.labeled import builtin, normalize_answer, split
from edge.calibration.outcomes import Memo, collect_outcomes, memoized_edge_run
from edge.confidence.estimators import create_estimator
from edge.core.query import Query


async def run(args: argparse.Namespace, cloud_address: str) -> dict:
    evaluation = split(builtin(args.sets.split(",")), seed=args.seed)[1][: args.n]
    memo = Memo(args.memo)
    async with edge_agent_for_benchmark(cloud_address, args.threads) as agent:
        greedy = await collect_outcomes(agent.namespace(), evaluation, args.memo)
        agreement, sampled_seconds = [], 0.0
        for outcome in tqdm(greedy, desc=f"{args.k} samples each"):
            agree = 0
            for seed in range(1, args.k + 1):
                query = Query(
                    question=outcome.item.question,
                    temperature=args.temperature,
                    seed=seed,
                    style=agent.namespace().style,
                )
                key = f"edge-sample|{agent.namespace().edge_model}|{args.temperature}|{seed}|{query.rendered_text()}"
                sample = await memoized_edge_run(agent.namespace(), memo, key, query)
                sampled_seconds += sample.seconds
                agree += normalize_answer(sample.answer) == normalize_answer(outcome.edge.answer)
            agreement.append(agree / args.k)
    edge_ok = np.array([o.edge_correct for o in greedy])
    logprob = np.array([o.score(create_estimator("mean_logprob")) for o in greedy])
    agreement_arr = np.array(agreement)
    greedy_seconds = float(sum(o.edge.seconds for o in greedy))
    return {
        "date": time.strftime("%Y-%m-%d"),
        "questions": len(greedy),
        "k": args.k,
        "temperature": args.temperature,
        "edge_accuracy": float(edge_ok.mean()),
        "auroc": {
            "mean_logprob": roc_auc(logprob, edge_ok),
            "agreement": roc_auc(agreement_arr, edge_ok),
            "mean_logprob+agreement": roc_auc((logprob + agreement_arr) / 2, edge_ok),
        },
        "edge_seconds": {"greedy": greedy_seconds, "samples": sampled_seconds},
        "edge_time_factor": (greedy_seconds + sampled_seconds) / greedy_seconds if greedy_seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_labeled_run_args(parser)
    parser.add_argument("--n", type=int, default=150, help="evaluation questions")
    parser.add_argument("--k", type=int, default=4, help="sampled answers per question")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "self_consistency.json")
    args = parser.parse_args()
    report = run_against_cloud(args, run, needs_cloud=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    a = report["auroc"]
    print(
        f"{report['questions']} questions, edge accuracy {report['edge_accuracy']:.3f}: AUROC mean_logprob "
        f"{a['mean_logprob']:.3f}, agreement of {report['k']} samples {a['agreement']:.3f}, both "
        f"{a['mean_logprob+agreement']:.3f}; edge time x{report['edge_time_factor']:.1f}"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
