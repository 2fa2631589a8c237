"""Quality versus cloud share, per confidence estimator, on the evaluation split of the labeled sets.

`python -m benchmarks.quality [--cloud-address HOST:PORT | --backend vllm] [--limit N]` runs every evaluation
question through the real edge model and the real cloud service (answers memoized under
benchmarks/results/cache/, so reruns are cheap), sweeps the threshold of each estimator, adds the baselines
(edge only, cloud only, random escalation at the same share, oracle) and writes benchmarks/results/quality.json
and quality.png.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.cost_curves import plot_cost, print_verification, verification_by_estimator
from benchmarks.harness import (
    RESULTS_DIR,
    add_labeled_run_args,
    edge_agent_for_benchmark,
    label_and_embed,
    run_against_cloud,
)
from edge.agent import EdgeAgent
from edge.calibration.curves import accuracy_at_share, cascade_curve, fit_weight, roc_auc, routellm_metrics
from edge.calibration.labeled import builtin, normalize_answer, split
from edge.calibration.outcomes import Memo, Outcome, memoized_edge_run
from edge.calibration.served import calibration_rows, served_scores
from edge.confidence.estimators import ESTIMATORS, create_estimator
from edge.confidence.learned import LearnedEstimator
from edge.core.query import Query
from edge.pipeline.decision import decide
from edge.routing.outcome_store import OutcomeStore
from edge.routing.policy import KnnRoutePolicy, build_router
from shared.config import RoutingConfig

SHARES = (0.25, 0.5, 0.75)
COST_PLOTTED = ("mean_logprob", "router+mean_logprob")


def by_topic(outcomes: list[Outcome]) -> dict:
    """Which side wins on each kind of question."""
    topics: dict[str, list[Outcome]] = {}
    for o in outcomes:
        topics.setdefault(o.item.topic or "other", []).append(o)
    return {
        topic: {
            "n": len(group),
            "edge": float(np.mean([o.edge_correct for o in group])),
            "cloud": float(np.mean([o.cloud_correct for o in group])),
        }
        for topic, group in sorted(topics.items())
    }


def summarize(outcomes: list[Outcome], extra_scores: dict[str, np.ndarray] | None = None) -> dict:
    """Curves, AUROC and shares for every estimator, plus any extra named score arrays (e.g. routers)."""
    edge_ok = np.array([o.edge_correct for o in outcomes])
    cloud_ok = np.array([o.cloud_correct for o in outcomes])
    edge_acc, cloud_acc = float(edge_ok.mean()), float(cloud_ok.mean())
    gain = cloud_ok.astype(int) - edge_ok.astype(int)
    oracle = cascade_curve(-gain.astype(float), edge_ok, cloud_ok)  # escalate where the cloud gains most first
    result: dict[str, Any] = {
        "questions": len(outcomes),
        "edge_only_accuracy": edge_acc,
        "cloud_only_accuracy": cloud_acc,
        "oracle": {
            "cloud_share": float((~edge_ok).mean()),
            "accuracy": float((edge_ok | cloud_ok).mean()),
            "curve": [[p.cloud_share, p.accuracy] for p in oracle],
        },
        "random": {f"{s:.2f}": (1 - s) * edge_acc + s * cloud_acc for s in SHARES},
        "by_topic": by_topic(outcomes),
        "oracle_at": {f"{s:.2f}": accuracy_at_share(oracle, s) for s in SHARES},
        "estimators": {},
    }
    named = {name: np.array([o.score(create_estimator(name)) for o in outcomes]) for name in ESTIMATORS}
    named |= extra_scores or {}
    for name, scores in named.items():
        curve = cascade_curve(scores, edge_ok, cloud_ok)
        result["estimators"][name] = {
            "auroc": roc_auc(scores, edge_ok),
            "accuracy_at": {f"{s:.2f}": accuracy_at_share(curve, s) for s in SHARES},
            "x_cloud_only_at": {
                f"{s:.2f}": accuracy_at_share(curve, s) / cloud_acc if cloud_acc else None for s in SHARES
            },
            **routellm_metrics(curve),
            # Pre-generation routes rank at -inf/+inf: their thresholds are written as null.
            "curve": [[p.cloud_share, p.accuracy, p.threshold if math.isfinite(p.threshold) else None] for p in curve],
        }
    result["verification"] = verification_by_estimator(outcomes, named)
    return result


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for name, est in summary["estimators"].items():
        xs, ys = zip(*[(p[0], p[1]) for p in est["curve"]], strict=True)
        ax.plot(xs, ys, label=f"{name} (AUROC {est['auroc']:.2f})")
    e, c = summary["edge_only_accuracy"], summary["cloud_only_accuracy"]
    ax.plot([0, 1], [e, c], "k--", label="random escalation")
    ox, oy = zip(*summary["oracle"]["curve"], strict=True)
    ax.plot(ox, oy, "k:", label="oracle")
    ax.scatter([0, 1], [e, c], c="k", zorder=5)
    ax.annotate("edge only", (0, e), textcoords="offset points", xytext=(5, -12))
    ax.annotate("cloud only", (1, c), textcoords="offset points", xytext=(-60, -12))
    ax.set_xlabel("cloud share (fraction of queries escalated)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Tandem cascade, {summary['questions']} held-out questions")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _shares(values: Iterable[float | None]) -> str:
    return "/".join("-" if v is None else f"{v:.2f}" for v in values)


def print_table(summary: dict) -> None:
    print(
        f"{summary['questions']} evaluation questions: edge only {summary['edge_only_accuracy']:.3f}, "
        f"cloud only {summary['cloud_only_accuracy']:.3f}, oracle {summary['oracle']['accuracy']:.3f} "
        f"at cloud share {summary['oracle']['cloud_share']:.2f}"
    )
    print(
        f"{'estimator':<22}{'AUROC':>7}"
        + "".join(f"{'acc@' + s:>10}" for s in summary["random"])
        + f"{'x cloud@0.50':>14}{'share 50/80/95%':>17}{'APGR':>6}"
    )
    for name, est in summary["estimators"].items():
        shares = _shares(est["share_to_reach"].values())
        apgr = est["gap_recovered"]
        print(
            f"{name:<22}{est['auroc']:>7.3f}"
            + "".join(f"{v:>10.3f}" for v in est["accuracy_at"].values())
            + f"{est['x_cloud_only_at']['0.50'] or float('nan'):>14.3f}"
            + f"{shares:>17}{apgr if apgr is not None else float('nan'):>6.2f}"
        )
    random_shares = next(iter(summary["estimators"].values()))["random_share_to_reach"].values()
    needed = _shares(random_shares)
    print(f"random escalation needs cloud share {needed} for 50/80/95 % of cloud-only accuracy")
    print(f"{'random':<22}{'':>7}" + "".join(f"{v:>10.3f}" for v in summary["random"].values()))
    print(f"{'oracle':<22}{'':>7}" + "".join(f"{v:>10.3f}" for v in summary["oracle_at"].values()))


async def context_runs(
    agent: EdgeAgent, calibration: list[Outcome], evaluation: list[Outcome], cloud_model: str, memo: Memo
) -> list[Outcome]:
    """Cache as context, as served: the calibration questions' cloud answers go into the agent's answer cache,
    and each evaluation question is re-asked on the edge with the pairs the cascade itself picks."""
    namespace = agent.namespace()
    for o in calibration:
        if o.cloud is not None:
            query = Query(question=o.item.question, style=namespace.style)
            await namespace.labeled.seed_cache(query, o.cloud.answer, cloud_model)
    runs = []
    for outcome in evaluation:
        query = Query(question=outcome.item.question, style=namespace.style)
        context = await namespace.context_for(query)
        key = f"edge-context|{namespace.edge_model}|{namespace.style.max_tokens}|{query.rendered_text(context)}"
        run = await memoized_edge_run(namespace, memo, key, query, context)
        runs.append(Outcome(outcome.item, run, outcome.cloud))
    return runs


def router_scores(
    calibration: list[Outcome], evaluation: list[Outcome], cal_emb: np.ndarray, ev_emb: np.ndarray, data_dir: Path
) -> tuple[dict[str, np.ndarray], dict]:
    """The served router and decision, fitted on the calibration split only: the route policy reads the
    calibration labels from an outcome store, and `decide()` turns its advice into each question's score."""
    cal_edge = np.array([o.edge_correct for o in calibration])
    cal_cloud = np.array([o.cloud_correct for o in calibration])
    knn = build_router(calibration_rows(calibration, cal_emb), RoutingConfig())
    cal_logprob = np.array([o.score(create_estimator("mean_logprob")) for o in calibration])
    weight = fit_weight(cal_logprob, knn.confidence(cal_emb, leave_one_out=True), cal_edge, cal_cloud)
    routing = RoutingConfig(weight=weight)
    store = OutcomeStore(data_dir / "outcomes.sqlite")
    store.replace_labeled(
        [(o.item.question, v, o.edge_correct, o.cloud_correct) for o, v in zip(calibration, cal_emb, strict=True)],
        "calibration",
    )
    policy = KnnRoutePolicy(store, routing)
    advice = [policy.advice_for(v) for v in ev_emb]
    store.close()
    plans = [decide(0.5, advice=a, routing=routing) for a in advice]
    ev_logprob = np.array([o.score(create_estimator("mean_logprob")) for o in evaluation])
    # Label-free signal: do edge and cloud agree? Recorded, not trusted: a weak cloud makes it misleading.
    agreement = np.array(
        [
            float(normalize_answer(o.edge.answer) == normalize_answer(o.cloud.answer)) if o.cloud else 0.5
            for o in evaluation
        ]
    )
    # The learned estimator as `estimator = "learned"` serves it: fitted on the calibration split's edge answers
    # (as calibrate fits it), its score mixed with the router's advice by the served decision.
    learned_rule = LearnedEstimator.fit([o.edge.steps() for o in calibration], cal_edge, "bench", "bench")
    learned = served_scores(evaluation, learned_rule, advice, routing)
    scores = {
        "router": np.array([0.5 if a.confidence is None else a.confidence for a in advice]),
        "router+mean_logprob": np.array([p.ranking_score(lp) for p, lp in zip(plans, ev_logprob, strict=True)]),
        "learned": np.array([learned_rule.score(o.edge.steps()) for o in evaluation]),
        "learned+router": learned,
        "edge_cloud_agreement": agreement,
    }
    straight = np.array([p.route == "cloud" for p in plans])
    info = {
        "k": routing.k,
        "weight_on_logprob": weight,
        "fitted_on": len(calibration),
        "router_spoke_share": float(np.mean([a.confidence is not None for a in advice])),
        "pre_generation": {
            "to_cloud_share": float(straight.mean()),
            "kept_local_share": float(np.mean([p.route == "edge" for p in plans])),
            "edge_seconds_saved": float(sum(o.edge.seconds for o, s in zip(evaluation, straight, strict=True) if s)),
            "edge_seconds_total": float(sum(o.edge.seconds for o in evaluation)),
        },
    }
    return scores, info


async def run(args: argparse.Namespace, cloud_address: str) -> dict:
    calibration, evaluation = split(builtin(args.sets.split(",")), seed=args.seed)
    if args.limit:
        calibration, evaluation = calibration[: args.limit], evaluation[: args.limit]
    async with edge_agent_for_benchmark(
        cloud_address, args.threads, cache_enabled=True, cache_as_context=True
    ) as agent:
        info, (cal_outcomes, outcomes), (cal_emb, ev_emb) = await label_and_embed(
            agent, [calibration, evaluation], args.memo
        )
        with_context = await context_runs(agent, cal_outcomes, outcomes, info.model_id, Memo(args.memo))
        edge_model = agent.namespace().edge_model
        extra, router_info = router_scores(cal_outcomes, outcomes, cal_emb, ev_emb, agent.config.data_dir)
    summary = summarize(outcomes, extra)
    # The context changes the edge's answers too, so its curve is computed on the context runs.
    context_summary = summarize(with_context)
    summary["estimators"]["mean_logprob+context"] = context_summary["estimators"]["mean_logprob"]
    summary["cache_as_context"] = {
        "edge_only_accuracy": context_summary["edge_only_accuracy"],
        "edge_only_accuracy_without": summary["edge_only_accuracy"],
    }
    summary["router"] = router_info
    summary.update(
        date=time.strftime("%Y-%m-%d"),
        edge_model=edge_model,
        cloud_model=info.model_id,
        sets=args.sets,
        seed=args.seed,
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_labeled_run_args(parser)
    parser.add_argument("--limit", type=int, default=0, help="at most this many evaluation questions (0: all)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "quality.json")
    args = parser.parse_args()
    summary = run_against_cloud(args, run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2))
    plot(summary, args.out.with_suffix(".png"))
    cost_png = args.out.with_name(f"{args.out.stem}_cost.png")
    plot_cost(summary["verification"], COST_PLOTTED, cost_png)
    print_table(summary)
    print_verification(summary["verification"])
    print(f"wrote {args.out}, {args.out.with_suffix('.png')} and {cost_png}")


if __name__ == "__main__":
    main()
