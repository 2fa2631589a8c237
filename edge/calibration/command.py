"""`tandem-edge calibrate`: choose the escalation threshold from labeled questions and write it into the config."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from edge.agent import EdgeAgent
from edge.calibration.curves import (
    evaluate_threshold,
    roc_auc,
    threshold_for_accuracy,
    threshold_for_share,
)
from edge.calibration.labeled import builtin, load_jsonl, split
from edge.calibration.outcomes import Outcome, collect_outcomes, outcome_arrays
from edge.calibration.risk import losses_kept, risk_bounded_threshold
from edge.calibration.served import replay_advice, served_curve, served_scores, usable_threshold
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
    p.add_argument("--json", action="store_true", help="print the whole report as JSON instead of a table")
    add_section_flags(p, EdgeConfig, "edge")


def write_threshold(path: Path, estimator: str, threshold: float, learned_path: Path | None = None) -> None:
    import tomlkit

    doc = tomlkit.parse(path.read_text()) if path.is_file() else tomlkit.document()
    edge = doc.setdefault("edge", tomlkit.table(is_super_table=True))
    confidence = edge.setdefault("confidence", tomlkit.table())
    confidence["estimator"] = estimator
    confidence["threshold"] = threshold  # unrounded: the question scored exactly at it must stay local
    if learned_path is not None:
        confidence["learned_path"] = str(learned_path.resolve())
    path.write_text(tomlkit.dumps(doc))


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
        vectors = await namespace.labeled.embed_many([o.item.question for o in cal_out + held_out])
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

    rows: list[dict[str, Any]] = []
    fitted: dict[str, ConfidenceEstimator] = {}
    for name in names:
        estimator = fitted[name] = estimator_for(name, config.edge, edge_model, cal_out)
        cal = served_scores(cal_out, estimator, cal_advice, routing), *outcome_arrays(cal_out, estimator)[1:]
        ev = served_scores(held_out, estimator, held_advice, routing), *outcome_arrays(held_out, estimator)[1:]
        row: dict[str, Any] = {"estimator": name, "auroc": roc_auc(outcome_arrays(cal_out, estimator)[0], cal[1])}
        row["served_auroc"] = roc_auc(np.clip(cal[0], -1.0, 2.0), cal[1])
        if key == "max_accuracy_loss":
            bounded = risk_bounded_threshold(*cal, target, args.confidence)
            threshold = usable_threshold(bounded.threshold)
            row["risk"] = asdict(bounded) | {"held_out_loss": float(np.mean(losses_kept(*ev, threshold)))}
        else:
            curve = served_curve(*cal)
            point = (
                threshold_for_share(curve, target)
                if key == "cloud_share"
                else (threshold_for_accuracy(curve, target) or curve[-1])
            )
            threshold = point.threshold
        # Both splits evaluated at the threshold written to the config, exactly as the daemon applies it.
        row |= {
            "threshold": threshold,
            "calibration": asdict(evaluate_threshold(*cal, threshold)),
            "held_out": asdict(evaluate_threshold(*ev, threshold)),
        }
        rows.append(row)
    # With several estimators, keep the one that did best on the calibration split.
    best = (
        max(rows, key=lambda r: r["calibration"]["accuracy"])
        if key == "cloud_share"
        else min(rows, key=lambda r: (r["calibration"]["cloud_share"], -r["calibration"]["accuracy"]))
    )
    report = {
        "target": {key: target},
        "served_policy": {"router": routing is not None, "device": "nominal"},
        "questions": {"calibration": len(calib), "held_out": len(held)},
        "cloud_only_accuracy_held_out": float(np.mean([o.cloud_correct for o in held_out])),
        "edge_only_accuracy_held_out": float(np.mean([o.edge_correct for o in held_out])),
        "estimators": rows,
        "chosen": best["estimator"],
    }
    if args.write:
        chosen = fitted[best["estimator"]]
        learned_path = None
        if isinstance(chosen, LearnedEstimator):  # the fitted rule is served from its own versioned file
            learned_path = args.write.with_name(f"{args.write.stem}.learned.json")
            chosen.save(learned_path, trained_on=len(cal_out))
            report["learned_rule"] = str(learned_path)
        write_threshold(args.write, best["estimator"], best["threshold"], learned_path)
        report["written_to"] = str(args.write)
    return report


def print_report(report: dict) -> None:
    ((key, target),) = report["target"].items()
    print(
        f"target {key} = {target}; calibration {report['questions']['calibration']} questions, "
        f"held-out {report['questions']['held_out']}"
    )
    print(
        f"{'estimator':<14}{'threshold':>10}{'AUROC':>7}{'calib share':>12}{'calib acc':>10}"
        f"{'held share':>11}{'held acc':>9}{'error':>8}"
    )
    for r in report["estimators"]:
        c, h = r["calibration"], r["held_out"]
        error = h[key] - target if key in h else r["risk"]["held_out_loss"] - target
        print(
            f"{r['estimator']:<14}{r['threshold']:>10.4f}{r['auroc']:>7.3f}{c['cloud_share']:>12.3f}"
            f"{c['accuracy']:>10.3f}{h['cloud_share']:>11.3f}{h['accuracy']:>9.3f}{error:>+8.3f}"
        )
        if "risk" in r:
            risk = r["risk"]
            print(
                f"{'':<14}loss bound {risk['loss_upper_bound']:.4f} ({risk['losses']} losses in {risk['questions']}), "
                f"{'holds' if risk['held'] else 'not reachable: everything escalates'}; held-out loss "
                f"{risk['held_out_loss']:.4f} {'<=' if risk['held_out_loss'] <= target else '>'} {target}"
            )
    if report["served_policy"]["router"]:
        print("shares and accuracies are of the served policy: router gates and mix replayed, nominal device")
    print(
        f"held-out accuracy: edge only {report['edge_only_accuracy_held_out']:.3f}, "
        f"cloud only {report['cloud_only_accuracy_held_out']:.3f}"
    )
    if "written_to" in report:
        print(f"wrote estimator={report['chosen']} and its threshold to {report['written_to']}")
    print(json.dumps({"chosen": report["chosen"]}))
