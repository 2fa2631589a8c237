"""`tandem-edge calibrate`: choose the escalation threshold from labeled questions and write it into the config."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.agent import EdgeAgent
from edge.calibration.costs import verification_savings
from edge.calibration.curves import CurvePoint
from edge.calibration.guard import Baselines, oracle_at
from edge.calibration.labeled import builtin, load_jsonl, split
from edge.calibration.outcomes import Outcome, agreement_report, collect_outcomes
from edge.calibration.served import replay_advice
from edge.calibration.variants import (
    Replay,
    Target,
    choose,
    evaluate,
    held_out_scores,
    shares_without_objection,
)
from edge.confidence.estimators import ALL_ESTIMATORS, create_estimator
from edge.confidence.learned import LearnedEstimator
from edge.core.protocols import ConfidenceEstimator
from shared.cli_flags import add_section_flags
from shared.config import EdgeConfig, TandemConfig
from shared.errors import InvalidRequest


def add_calibrate_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="choose the threshold from labeled questions (needs a running cloud)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--target-cloud-share", type=float, help="fraction of queries allowed to escalate, 0-1")
    target.add_argument("--target-accuracy", type=float, help="accuracy to reach at the lowest cloud share, 0-1")
    target.add_argument(
        "--max-accuracy-loss",
        type=float,
        help="the lowest cloud share whose accuracy loss against cloud-only is at most this, 0-1, at --confidence",
    )
    p.add_argument("--confidence", type=float, default=0.9, help="level of the one-sided bound for --max-accuracy-loss")
    p.add_argument("--labeled", type=Path, help="your JSONL of {question, answers}; default: built-in sets")
    p.add_argument("--sets", default="all", help="built-in sets to use, comma-separated, or 'all'")
    p.add_argument(
        "--estimators",
        default="configured",
        help="'configured' (the [edge] estimator), 'all' (compare them, write the best) or one name",
    )
    p.add_argument("--limit", type=int, default=0, help="at most this many questions per split (0: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the calibration/held-out split")
    p.add_argument("--write", type=Path, help="TOML config to write [edge.confidence] threshold and estimator into")
    p.add_argument(
        "--hold-share",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --target-cloud-share and --write: also write the target, so the daemon holds that share online",
    )
    p.add_argument(
        "--router",
        choices=["auto", "on", "off"],
        default="auto",
        help="the router variants to choose among: both (auto), or only with it on (the daemon then learns from its "
        "traffic) or off",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write the chosen policy even when it does worse on held-out than the edge alone or random escalation",
    )
    p.add_argument(
        "--fallback",
        action="store_true",
        help="when no policy beats the simple choices on held-out, write the better side alone (edge or cloud)",
    )
    p.add_argument("--json", action="store_true", help="print the whole report as JSON instead of a table")
    add_section_flags(p, EdgeConfig, "edge")


@dataclass(frozen=True)
class WrittenPolicy:
    estimator: str
    threshold: float
    router: bool
    target_cloud_share: float | None = None  # the online controller holds it; None: off
    learned_path: Path | None = None


def write_policy(path: Path, policy: WrittenPolicy) -> None:
    import tomlkit

    doc = tomlkit.parse(path.read_text()) if path.is_file() else tomlkit.document()
    edge = doc.setdefault("edge", tomlkit.table(is_super_table=True))
    confidence = edge.setdefault("confidence", tomlkit.table())
    confidence["estimator"] = policy.estimator
    confidence["threshold"] = policy.threshold  # unrounded: the question scored exactly at it must stay local
    if policy.target_cloud_share is not None:
        confidence["target_cloud_share"] = policy.target_cloud_share
    elif "target_cloud_share" in confidence:
        del confidence["target_cloud_share"]
    if policy.learned_path is not None:
        confidence["learned_path"] = str(policy.learned_path.resolve())
    edge.setdefault("routing", tomlkit.table())["enabled"] = policy.router
    path.write_text(tomlkit.dumps(doc))


def fallback_policy(side: str) -> WrittenPolicy:
    """One side alone: never escalate (threshold 0, no router), or always (threshold 1, early escalation)."""
    return WrittenPolicy("mean_logprob", 0.0 if side == "edge" else 1.0, router=False)


def estimator_for(name: str, edge: EdgeConfig, edge_model: str, calibration: list[Outcome]) -> ConfidenceEstimator:
    """A token estimator as configured, or the learned rule fitted on the calibration split's edge answers."""
    if name == LearnedEstimator.name:
        edge_ok = np.array([o.edge_correct for o in calibration])
        drafts = [o.edge.steps() for o in calibration]
        return LearnedEstimator.fit(drafts, edge_ok, edge_model, edge.local.rendering)
    return create_estimator(name, edge.confidence.quantile)


def _target(args: argparse.Namespace) -> tuple[str, float]:
    for key, value in (
        ("cloud_share", args.target_cloud_share),
        ("accuracy", args.target_accuracy),
        ("max_accuracy_loss", args.max_accuracy_loss),
    ):
        if value is not None:
            if not 0.0 <= value <= 1.0:
                raise InvalidRequest(f"--{key.replace('_', '-')} must be within [0, 1] (got {value})")
            return key, value
    raise InvalidRequest("give a target: --target-cloud-share, --target-accuracy or --max-accuracy-loss")


async def calibrate(config: TandemConfig, args: argparse.Namespace) -> dict:
    key, target = _target(args)
    if not 0.5 <= args.confidence < 1.0:
        raise InvalidRequest(f"--confidence must be within [0.5, 1) (got {args.confidence})")
    items = load_jsonl(args.labeled) if args.labeled else builtin(args.sets.split(","))
    calib, held = split(items, seed=args.seed)
    if args.limit:
        calib, held = calib[: args.limit], held[: args.limit]
    if len(calib) < 4 or len(held) < 4:
        raise InvalidRequest(f"too few labeled questions ({len(items)}); calibration needs at least 8")
    names = (
        list(ALL_ESTIMATORS)
        if args.estimators == "all"
        else [config.edge.confidence.estimator if args.estimators == "configured" else args.estimators]
    )
    if unknown := set(names) - set(ALL_ESTIMATORS):
        raise InvalidRequest(f"unknown estimator {sorted(unknown)}; choose from {sorted(ALL_ESTIMATORS)}")

    # Labeled runs must not fill the user's answer cache; this agent scores nothing, so a learned rule that is
    # about to be refitted (perhaps because it is stale) is not loaded.
    uncached = config.model_copy(deep=True)
    uncached.edge.cache.enabled = False
    uncached.edge.confidence.estimator = "mean_logprob"
    cal_advice = held_advice = routing = None
    async with EdgeAgent(uncached) as agent:
        namespace = agent.namespace()
        edge_model = namespace.edge_model
        info = await agent.cloud_info()
        memo = config.data_dir / "labeled" / "outcomes.jsonl"
        concurrency = min(8, info.max_concurrent_requests)
        cal_out = await collect_outcomes(namespace, calib, memo, cloud=info, concurrency=concurrency)
        held_out = await collect_outcomes(namespace, held, memo, cloud=info, concurrency=concurrency)
        # The router learns from the calibration half only: the held-out half stays unseen, so what the report
        # says of it is what the daemon will do with questions it has never seen.
        vectors = await namespace.labeled.route_vectors([o.item.question for o in cal_out + held_out])
        if vectors is not None:
            cal_vec, held_vec = vectors[: len(cal_out)], vectors[len(cal_out) :]
            pairs = zip(cal_out, cal_vec, strict=True)
            await namespace.labeled.learn([(o.item.question, v, o.edge_correct, o.cloud_correct) for o, v in pairs])
            # Held-out questions are asked of the daemon's router itself, over the store it will read; the
            # calibration ones see the others' labels (leave-one-out, the same policy class over these rows).
            held_advice = namespace.labeled.advice(held_vec)
            if held_advice is not None:
                routing = config.edge.routing
                cal_advice = replay_advice(cal_out, cal_vec, cal_vec, routing, leave_one_out=True)

    replay = Replay(cal_out, held_out, cal_advice, held_advice, routing)
    wanted = Target(key, target, args.confidence)
    fitted = {name: estimator_for(name, config.edge, edge_model, cal_out) for name in names}
    routers = {"auto": (True, False), "on": (True,), "off": (False,)}[args.router] if routing else (False,)
    rows = [evaluate(name, fitted[name], on, replay, wanted) for name in names for on in routers]
    best = choose(rows, wanted)
    held_edge = np.array([o.edge_correct for o in held_out])
    held_cloud = np.array([o.cloud_correct for o in held_out])
    base = Baselines.of(held_edge, held_cloud)
    held_point = CurvePoint(best["threshold"], best["held_out"]["cloud_share"], best["held_out"]["accuracy"])
    report: dict[str, Any] = {
        "target": {key: target},
        "served_policy": {"router": best["router"], "device": "nominal"},
        "questions": {"calibration": len(calib), "held_out": len(held)},
        "cloud_only_accuracy_held_out": base.cloud_only,
        "edge_only_accuracy_held_out": base.edge_only,
        "random_accuracy_held_out": base.random_at(held_point.cloud_share),
        "oracle_accuracy_held_out": oracle_at(held_edge, held_cloud, held_point.cloud_share),
        "estimators": rows,
        "chosen": best["estimator"],
        "objection": best["objection"],
        "agreement": agreement_report(cal_out + held_out),
    }
    report["gap_recovered_held_out"] = base.gap_recovered(held_point, report["oracle_accuracy_held_out"])
    served = held_out_scores(fitted[best["estimator"]], best["router"], replay)
    report["verification"] = {
        "mode": str(uncached.edge.uplink.verify_draft),
        **verification_savings(held_out, served, best["threshold"], config.cost),
    }
    if best["objection"] is not None:
        report["better_side"] = base.better_side
        report["shares_without_objection"] = shares_without_objection(fitted[best["estimator"]], best, replay)
    if args.write:
        write_chosen(args, report, best, fitted[best["estimator"]], len(cal_out))
    return report


def write_chosen(
    args: argparse.Namespace, report: dict, best: dict, chosen: ConfidenceEstimator, trained_on: int
) -> None:
    """Writes the chosen policy, the better side alone (--fallback), or nothing when the guard objects."""
    if best["objection"] is not None and not args.force:
        if not args.fallback:
            report["not_written"] = best["objection"]
            return
        write_policy(args.write, fallback_policy(report["better_side"]))
        report["written_to"], report["wrote_fallback"] = str(args.write), report["better_side"]
        return
    learned_path = None
    if isinstance(chosen, LearnedEstimator):  # the fitted rule is served from its own versioned file
        learned_path = args.write.with_name(f"{args.write.stem}.learned.json")
        chosen.save(learned_path, trained_on=trained_on)
        report["learned_rule"] = str(learned_path)
    ((key, target),) = report["target"].items()
    hold = target if key == "cloud_share" and args.hold_share else None
    write_policy(args.write, WrittenPolicy(best["estimator"], best["threshold"], best["router"], hold, learned_path))
    report["written_to"] = str(args.write)
    report["holds_cloud_share"] = hold
