"""Router variants on kinds of question they never saw, replayed with the product's router and decision.

`python -m benchmarks.router_replay [--per-set 40]` labels every built-in set with the real edge and cloud models
(memoized), then holds out each set in turn: the router is fitted on the others (calibration labels), the
threshold for the target share is chosen on them as calibrate would, and the held-out questions stream through
`decide()` with the share controller on; with learning, each escalation the policy chose teaches the router an
agreement label (`KnnRoutePolicy.learn`), as the daemon does. Reports G = (policy - random) / (oracle - random) at
the realized share for every set and variant; writes benchmarks/results/router_replay.json.
"""

from __future__ import annotations

import argparse
import json
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
from edge.calibration.curves import CurvePoint, threshold_for_share
from edge.calibration.guard import Baselines, oracle_at
from edge.calibration.labeled import BUILTIN_SETS, builtin
from edge.calibration.outcomes import Outcome
from edge.calibration.served import calibration_rows, replay_advice, served_curve, served_scores
from edge.confidence.estimators import create_estimator
from edge.core.protocols import AGREEMENT, RouterAdvice
from edge.pipeline.decision import decide
from edge.pipeline.share import ShareTracker
from edge.routing.policy import KnnRoutePolicy
from shared.answers import draft_agrees
from shared.config import RoutingConfig

ESTIMATOR = create_estimator("mean_logprob")
VARIANTS: dict[str, tuple[RoutingConfig | None, bool]] = {
    "log-prob only": (None, False),
    "router": (RoutingConfig(), False),
    "router + agreement": (RoutingConfig(), True),
    "relative kernel + agreement": (RoutingConfig(kernel="relative", min_similarity=0.5, min_support=1.0), True),
    "relation + agreement": (RoutingConfig(relation_only=True), True),
    # Many moderately similar labels add up (a kind's questions about other subjects sit at cosine 0.6-0.75).
    "k 50 + agreement": (RoutingConfig(k=50, min_similarity=0.6), True),
}


def stream(fit: list[Outcome], fit_vec: np.ndarray, held: list[Outcome], held_vec: np.ndarray, variant, target):
    routing, learn = variant
    edge_ok, cloud_ok = (np.array([getattr(o, f) for o in fit]) for f in ("edge_correct", "cloud_correct"))
    advice = replay_advice(fit, fit_vec, fit_vec, routing, leave_one_out=True) if routing else None
    scores = served_scores(fit, ESTIMATOR, advice, routing)
    threshold = threshold_for_share(served_curve(scores, edge_ok, cloud_ok), target).threshold
    policy = KnnRoutePolicy(calibration_rows(fit, fit_vec), routing) if routing else None
    share = ShareTracker(target)
    escalated, correct = [], []
    for o, v in zip(held, held_vec, strict=True):
        plan = decide(
            threshold,
            share_offset=share.offset,
            advice=policy.advice_for(v) if policy else RouterAdvice(None),
            routing=routing,
        )
        keep = plan.keeps_local(o.score(ESTIMATOR))
        share.observe(not keep)
        escalated.append(not keep)
        correct.append(o.edge_correct if keep else o.cloud_correct)
        if policy and learn and not keep and plan.route == "auto" and o.cloud is not None:
            agrees = draft_agrees(o.edge.answer, o.cloud.answer, complete=True)
            if agrees is not None:
                policy.learn(v, agrees, AGREEMENT)
    e, c = (np.array([getattr(o, f) for o in held]) for f in ("edge_correct", "cloud_correct"))
    point = CurvePoint(threshold, float(np.mean(escalated)), float(np.mean(correct)))
    g = Baselines.of(e, c).gap_recovered(point, oracle_at(e, c, point.cloud_share))
    return {"share": point.cloud_share, "accuracy": point.accuracy, "G": g}


async def run(args: argparse.Namespace, cloud_address: str) -> dict:
    rng = np.random.default_rng(args.seed)
    sets = {name: builtin([name]) for name in BUILTIN_SETS}
    sets = {n: [items[i] for i in rng.permutation(len(items))[: args.per_set]] for n, items in sets.items()}
    async with edge_agent_for_benchmark(cloud_address, args.threads) as agent:
        _, outcomes, vectors = await label_and_embed(agent, list(sets.values()), args.memo)
        async with edge_agent_for_benchmark(cloud_address, args.threads, router_relation_only=True) as masked:
            relations = []
            for out in outcomes:
                embedded = await masked.namespace().labeled.route_vectors([o.item.question for o in out])
                if embedded is None:
                    raise RuntimeError("the router is off: nothing embeds its questions")
                relations.append(embedded)
    by_set = dict(zip(sets, zip(outcomes, vectors, strict=True), strict=True))
    by_set_relation = dict(zip(sets, zip(outcomes, relations, strict=True), strict=True))
    report: dict = {"date": time.strftime("%Y-%m-%d"), "per_set": args.per_set, "target": args.target, "sets": {}}
    for held_name in sets:
        held = by_set[held_name][0]
        row = {
            "edge_only": float(np.mean([o.edge_correct for o in held])),
            "cloud_only": float(np.mean([o.cloud_correct for o in held])),
        }
        for variant, (routing, learn) in VARIANTS.items():
            vectors_of = by_set_relation if routing is not None and routing.relation_only else by_set
            fit = [o for name, (out, _) in vectors_of.items() if name != held_name for o in out]
            fit_vec = np.concatenate([vec for name, (_, vec) in vectors_of.items() if name != held_name])
            row[variant] = stream(fit, fit_vec, held, vectors_of[held_name][1], (routing, learn), args.target)
        report["sets"][held_name] = row
    for variant in VARIANTS:
        gs = [r[variant]["G"] for r in report["sets"].values() if r[variant]["G"] is not None]
        report.setdefault("mean_G", {})[variant] = float(np.mean(gs)) if gs else None
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_labeled_run_args(parser)
    parser.add_argument("--per-set", type=int, default=40, help="questions of each built-in set")
    parser.add_argument("--target", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "router_replay.json")
    args = parser.parse_args()
    report = run_against_cloud(args, run)
    shown = lambda g: "   -" if g is None else f"{g:+.2f}"  # noqa: E731
    print(f"{'held-out set':<16}{'edge':>6}{'cloud':>6}" + "".join(f"{v[:22]:>24}" for v in VARIANTS))
    for name, row in report["sets"].items():
        cells = "".join(f"{shown(row[v]['G']):>14} @ {row[v]['share']:.2f}".rjust(24) for v in VARIANTS)
        print(f"{name:<16}{row['edge_only']:>6.2f}{row['cloud_only']:>6.2f}{cells}")
    print(f"{'mean G':<28}" + "".join(f"{shown(report['mean_G'][v]):>24}" for v in VARIANTS))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
