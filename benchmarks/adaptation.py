"""How fast the router adapts to a kind of question it has never seen, through the daemon's feedback path.

`python -m benchmarks.adaptation [--holdout regions] [--feedback 0 10 20 50]` labels every built-in set with the
real edge and cloud models (memoized), fits the router on every set but the held-out one (both sides labeled,
as `tandem-edge calibrate` stores them), then feeds N questions of the held-out set through the feedback path
(`OutcomeStore.add` + refresh, one side labeled: the side the served policy picked, as an app's feedback would)
and reports x cloud-only accuracy at 50 % cloud share on the rest of the held-out set, with the served decision
(`decide()`, router gates and mix). Writes benchmarks/results/adaptation.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import (
    RESULTS_DIR,
    add_labeled_run_args,
    edge_agent_for_benchmark,
    label_and_embed,
    run_against_cloud,
)
from edge.calibration.curves import accuracy_at_share, cascade_curve, threshold_for_share
from edge.calibration.labeled import BUILTIN_SETS, builtin
from edge.calibration.outcomes import Outcome
from edge.calibration.served import served_scores
from edge.confidence.estimators import create_estimator
from edge.routing.outcome_store import OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from shared.config import RoutingConfig

MEAN_LOGPROB = create_estimator("mean_logprob")


def scores_as_served(policy: KnnRoutePolicy, outcomes: list[Outcome], vectors: np.ndarray) -> np.ndarray:
    """The served decision's scores, with the route policy's current advice for each question."""
    return served_scores(outcomes, MEAN_LOGPROB, [policy.advice_for(v) for v in vectors], policy.config)


def x_cloud_only(scores: np.ndarray, outcomes: list[Outcome], share: float = 0.5) -> float:
    edge_ok = np.array([o.edge_correct for o in outcomes])
    cloud_ok = np.array([o.cloud_correct for o in outcomes])
    cloud_acc = cloud_ok.mean()
    return float(accuracy_at_share(cascade_curve(scores, edge_ok, cloud_ok), share) / cloud_acc) if cloud_acc else 0.0


def adapt(
    fit: list[Outcome], fit_vec: np.ndarray, held: list[Outcome], held_vec: np.ndarray, feedback: list[int]
) -> dict:
    routing = RoutingConfig()
    rows = []
    rest, rest_vec = held[max(feedback) :], held_vec[max(feedback) :]
    with tempfile.TemporaryDirectory() as tmp:
        store = OutcomeStore(Path(tmp) / "outcomes.sqlite")
        rows_fit = [(o.item.question, v, o.edge_correct, o.cloud_correct) for o, v in zip(fit, fit_vec, strict=True)]
        store.replace_labeled(rows_fit, "calibration")
        policy = KnnRoutePolicy(store, routing)
        # The threshold a calibration of the fitted sets would choose for a 50 % share.
        fit_scores = scores_as_served(policy, fit, fit_vec)
        edge_ok = np.array([o.edge_correct for o in fit])
        cloud_ok = np.array([o.cloud_correct for o in fit])
        threshold = threshold_for_share(cascade_curve(fit_scores, edge_ok, cloud_ok), 0.5).threshold
        given = 0
        for n in sorted(feedback):
            for o, v in zip(held[given:n], held_vec[given:n], strict=True):
                escalated = scores_as_served(policy, [o], v[None])[0] < threshold
                # The app reports on the answer it got: one side labeled.
                store.add(
                    question=o.item.question,
                    embedding=v,
                    edge_correct=None if escalated else o.edge_correct,
                    cloud_correct=o.cloud_correct if escalated else None,
                    source="feedback",
                )
                policy.refresh()
            given = n
            rows.append(
                {"feedback": n, "x_cloud_only_at_0.50": x_cloud_only(scores_as_served(policy, rest, rest_vec), rest)}
            )
        store.close()
    return {
        "rows": rows,
        "evaluated_on": len(rest),
        "logprob_only_x_cloud_only_at_0.50": x_cloud_only(np.array([o.score(MEAN_LOGPROB) for o in rest]), rest),
        "rest_edge_accuracy": float(np.mean([o.edge_correct for o in rest])),
        "rest_cloud_accuracy": float(np.mean([o.cloud_correct for o in rest])),
    }


async def run(args: argparse.Namespace, cloud_address: str) -> dict:
    held_items = builtin([args.holdout])
    fit_items = builtin([name for name in BUILTIN_SETS if name != args.holdout])
    rng = np.random.default_rng(args.seed)
    held_items = [held_items[i] for i in rng.permutation(len(held_items))]
    if args.limit:
        fit_items, held_items = fit_items[: args.limit], held_items[: args.limit]
    async with edge_agent_for_benchmark(cloud_address, args.threads) as agent:
        _, (fit, held), (fit_vec, held_vec) = await label_and_embed(agent, [fit_items, held_items], args.memo)
    report = adapt(fit, fit_vec, held, held_vec, args.feedback)
    return {"date": time.strftime("%Y-%m-%d"), "holdout": args.holdout, "fitted_on": len(fit), **report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_labeled_run_args(parser)
    parser.add_argument("--holdout", default="regions", choices=sorted(BUILTIN_SETS), help="the set never fitted on")
    parser.add_argument("--feedback", type=int, nargs="+", default=[0, 10, 20, 50], help="feedback labels fed in")
    parser.add_argument("--limit", type=int, default=0, help="at most this many questions per side (0: all)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "adaptation.json")
    args = parser.parse_args()
    report = run_against_cloud(args, run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(
        f"held-out set {report['holdout']} ({report['evaluated_on']} questions evaluated; edge "
        f"{report['rest_edge_accuracy']:.3f}, cloud {report['rest_cloud_accuracy']:.3f}); router fitted on "
        f"{report['fitted_on']} others; log-prob alone {report['logprob_only_x_cloud_only_at_0.50']:.3f}x cloud-only"
    )
    for row in report["rows"]:
        print(f"  after {row['feedback']:>3} feedback labels: {row['x_cloud_only_at_0.50']:.3f}x cloud-only at 50 %")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
