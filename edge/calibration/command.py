"""`tandem-edge calibrate`: choose the escalation threshold from labeled questions and write it into the config."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from edge.agent import EdgeAgent
from edge.calibration.curves import (
    cascade_curve,
    evaluate_threshold,
    roc_auc,
    threshold_for_accuracy,
    threshold_for_share,
)
from edge.calibration.labeled import builtin, load_jsonl, split
from edge.calibration.outcomes import collect_outcomes, outcome_arrays
from edge.confidence.estimators import ESTIMATORS
from shared.cli_flags import add_section_flags
from shared.config import EdgeConfig, TandemConfig
from shared.errors import InvalidRequest


def add_calibrate_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="choose the threshold from labeled questions (needs a running cloud)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--target-cloud-share", type=float, help="fraction of queries allowed to escalate, 0-1")
    target.add_argument("--target-accuracy", type=float, help="accuracy to reach at the lowest cloud share, 0-1")
    p.add_argument("--labeled", type=Path, help="your JSONL of {question, answers}; default: built-in sets")
    p.add_argument("--sets", default="capitals,regions,arithmetic", help="built-in sets to use")
    p.add_argument(
        "--estimators",
        default="configured",
        help="'configured' (the [edge] estimator), 'all' (compare them, write the best) or one name",
    )
    p.add_argument("--limit", type=int, default=0, help="at most this many questions per split (0: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the calibration/held-out split")
    p.add_argument("--write", type=Path, help="TOML config to write [edge.confidence] threshold and estimator into")
    add_section_flags(p, EdgeConfig, "edge")


def write_threshold(path: Path, estimator: str, threshold: float) -> None:
    import tomlkit

    doc = tomlkit.parse(path.read_text()) if path.is_file() else tomlkit.document()
    edge = doc.setdefault("edge", tomlkit.table(is_super_table=True))
    for legacy in ("estimator", "threshold"):  # a flat [edge] key from before the sub-tables
        edge.pop(legacy, None)
    confidence = edge.setdefault("confidence", tomlkit.table())
    confidence["estimator"] = estimator
    confidence["threshold"] = round(threshold, 6)
    path.write_text(tomlkit.dumps(doc))


async def calibrate(config: TandemConfig, args: argparse.Namespace) -> dict:
    for name, value in (("--target-cloud-share", args.target_cloud_share), ("--target-accuracy", args.target_accuracy)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise InvalidRequest(f"{name} must be within [0, 1] (got {value})")
    items = load_jsonl(args.labeled) if args.labeled else builtin(args.sets.split(","))
    calib, held = split(items, seed=args.seed)
    if args.limit:
        calib, held = calib[: args.limit], held[: args.limit]
    if len(calib) < 4 or len(held) < 4:
        raise InvalidRequest(f"too few labeled questions ({len(items)}); calibration needs at least 8")
    names = (
        list(ESTIMATORS)
        if args.estimators == "all"
        else [config.edge.confidence.estimator if args.estimators == "configured" else args.estimators]
    )
    if unknown := set(names) - set(ESTIMATORS):
        raise InvalidRequest(f"unknown estimator {sorted(unknown)}; choose from {sorted(ESTIMATORS)}")

    # Labeled runs must not fill the user's answer cache.
    uncached = config.model_copy(deep=True)
    uncached.edge.cache.enabled = False
    async with EdgeAgent(uncached) as agent:
        info = await agent.client.model_info()
        memo = config.data_dir / "labeled" / "outcomes.jsonl"
        run = {"cloud_model": info.model_id, "concurrency": min(8, info.max_concurrent_requests)}
        cal_out = await collect_outcomes(agent.cascade, calib, memo, **run)
        held_out = await collect_outcomes(agent.cascade, held, memo, **run)
        if agent.embedder is not None:  # the router learns from every labeled answer
            labeled = cal_out + held_out
            vectors = await agent.embedder.embed_many([o.item.question for o in labeled])
            rows = [
                (o.item.question, v, o.edge_correct, o.cloud_correct) for o, v in zip(labeled, vectors, strict=True)
            ]
            await asyncio.to_thread(agent.outcomes.replace_labeled, rows, "calibration")

    rows = []
    for name in names:
        curve = cascade_curve(*outcome_arrays(cal_out, name))
        if args.target_cloud_share is not None:
            point = threshold_for_share(curve, args.target_cloud_share)
        else:
            point = threshold_for_accuracy(curve, args.target_accuracy) or curve[-1]
        achieved = evaluate_threshold(*outcome_arrays(held_out, name), point.threshold)
        scores, edge_ok, _ = outcome_arrays(cal_out, name)
        rows.append(
            {
                "estimator": name,
                "threshold": point.threshold,
                "auroc": roc_auc(scores, edge_ok),
                "calibration": asdict(point),
                "held_out": asdict(achieved),
            }
        )
    key = "cloud_share" if args.target_cloud_share is not None else "accuracy"
    target = args.target_cloud_share if args.target_cloud_share is not None else args.target_accuracy
    # With several estimators, keep the one that did best on the calibration split.
    best = (
        max(rows, key=lambda r: r["calibration"]["accuracy"])
        if key == "cloud_share"
        else min(rows, key=lambda r: r["calibration"]["cloud_share"])
    )
    report = {
        "target": {key: target},
        "questions": {"calibration": len(calib), "held_out": len(held)},
        "cloud_only_accuracy_held_out": float(np.mean([o.cloud_correct for o in held_out])),
        "edge_only_accuracy_held_out": float(np.mean([o.edge_correct for o in held_out])),
        "estimators": rows,
        "chosen": best["estimator"],
    }
    if args.write:
        write_threshold(args.write, best["estimator"], best["threshold"])
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
        print(
            f"{r['estimator']:<14}{r['threshold']:>10.4f}{r['auroc']:>7.3f}{c['cloud_share']:>12.3f}"
            f"{c['accuracy']:>10.3f}{h['cloud_share']:>11.3f}{h['accuracy']:>9.3f}{h[key] - target:>+8.3f}"
        )
    print(
        f"held-out accuracy: edge only {report['edge_only_accuracy_held_out']:.3f}, "
        f"cloud only {report['cloud_only_accuracy_held_out']:.3f}"
    )
    if "written_to" in report:
        print(f"wrote estimator={report['chosen']} and its threshold to {report['written_to']}")
    print(json.dumps({"chosen": report["chosen"]}))
