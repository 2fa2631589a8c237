"""Question kinds calibration never saw, through the daemon as users run it, learning from traffic on and off.

`python -m benchmarks.unseen_kinds [--holdout units,demonyms] [--target 0.5] [--limit 100] [--serve 120]`:
`tandem-edge calibrate` on every built-in set but the held-out ones (--fallback, --router on: the router is what
learns; the written target is held online), then `tandem-edge serve` on that config twice from the same start,
learning from traffic on (agreement labels and audits, the defaults) and off, with the held-out questions through
the official `openai` client. Every question is then asked with the route forced to each side, so random
escalation and the oracle at the served share are known. Reports per arm the served share, the accuracy and the
gap recovered G = (daemon - random) / (oracle - random), over the stream and per window of `--every` questions
(the learning curve: what the daemon decides after 0, every, 2 * every ... questions served), and the online
guard's state; writes benchmarks/results/unseen_kinds.json and .png.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.harness import RESULTS_DIR, add_cloud_args, daemon_cloud_flags, quiet_logs, write_result
from benchmarks.served_share import ask_all, calibrate, chosen_row
from edge.calibration.curves import CurvePoint
from edge.calibration.guard import Baselines, oracle_at
from edge.calibration.labeled import BUILTIN_SETS, builtin
from shared.launchers import DaemonProcess

NO_LEARNING = ["--router-agreement-labels", "false", "--router-audit-rate", "0"]


def gap(escalated: np.ndarray, correct: np.ndarray, edge_ok: np.ndarray, cloud_ok: np.ndarray) -> dict:
    """The served decisions against random escalation and the oracle at the same share."""
    share = float(escalated.mean())
    base = Baselines.of(edge_ok, cloud_ok)
    point = CurvePoint(0.0, share, float(correct.mean()))
    oracle = oracle_at(edge_ok, cloud_ok, share)
    return {
        "questions": len(correct),
        "share": share,
        "accuracy": point.accuracy,
        "random": base.random_at(share),
        "oracle": oracle,
        "edge_only": base.edge_only,
        "cloud_only": base.cloud_only,
        "G": base.gap_recovered(point, oracle),
    }


def per_topic(items: list, escalated: np.ndarray, correct: np.ndarray, edge_ok: np.ndarray, cloud_ok: np.ndarray):
    """Per kind of question: how much of it the daemon escalated, and what each side scores on it."""
    topics = np.array([i.topic for i in items])
    return {
        t: {
            "questions": int((topics == t).sum()),
            "escalated": float(escalated[topics == t].mean()),
            "served_accuracy": float(correct[topics == t].mean()),
            "edge_only": float(edge_ok[topics == t].mean()),
            "cloud_only": float(cloud_ok[topics == t].mean()),
        }
        for t in sorted(set(topics.tolist()))
    }


def serve_arm(data_dir: Path, config: Path, cloud: list[str], items: list, args: argparse.Namespace, learn: bool):
    flags = [*cloud, "--log-level", "WARNING", *([] if learn else NO_LEARNING)]
    with DaemonProcess(flags, data_dir=str(data_dir), env={"TANDEM_CONFIG": str(config)}) as daemon:
        answers = ask_all(daemon, items, args.clients)
        health = daemon.healthz()["namespaces"][""]
    return answers, health


def measure(cloud: list[str], args: argparse.Namespace) -> dict:
    held_sets = args.holdout.split(",")
    fitted_sets = ",".join(s for s in BUILTIN_SETS if s not in held_sets)
    rng = np.random.default_rng(args.seed)
    pool = builtin(held_sets)
    items = [pool[i] for i in rng.permutation(len(pool))[: args.serve]]
    with tempfile.TemporaryDirectory(prefix="tandem-unseen-") as tmp:
        start, config = Path(tmp) / "start", Path(tmp) / "tandem.toml"
        # The router on: what the daemon learns from its traffic reaches its decisions through the router.
        report = calibrate(str(start), cloud, config, args.target, fitted_sets, args.limit, "--router", args.router)
        arms = {}
        for name, learn in (("learning", True), ("no_learning", False)):
            arm_dir = Path(tmp) / name
            shutil.copytree(start, arm_dir)
            print(f"serving {len(items)} held-out questions, {name} ...", flush=True)
            arms[name] = serve_arm(arm_dir, config, cloud, items, args, learn)
        print("asking each question of each side alone ...", flush=True)
        sides_dir = Path(tmp) / "sides"
        shutil.copytree(start, sides_dir)
        with DaemonProcess([*cloud, "--log-level", "WARNING"], data_dir=str(sides_dir)) as daemon:
            edge_side = ask_all(daemon, items, args.clients, {"route": "edge"})
            cloud_side = ask_all(daemon, items, args.clients, {"route": "cloud"})
    edge_ok, cloud_ok = (np.array([a["correct"] for a in side]) for side in (edge_side, cloud_side))
    result: dict = {
        "holdout": held_sets,
        "calibrated_on": fitted_sets,
        "target": args.target,
        "calibration": {
            "chosen": report["chosen"],
            "router": report["served_policy"]["router"],
            "objection": report["objection"],
            "wrote_fallback": report.get("wrote_fallback"),
            "predicted_held_out_share": chosen_row(report)["held_out"]["cloud_share"],
        },
        "arms": {},
        # Each question's two answers with the route forced, for reading why a policy lost (grading included).
        "questions": [
            {"question": i.question, "accepted": i.answers, "edge": e["answer"], "cloud": c["answer"]}
            for i, e, c in zip(items, edge_side, cloud_side, strict=True)
        ],
    }
    for name, (answers, health) in arms.items():
        escalated = np.array([a["side"] == "cloud" for a in answers])
        correct = np.array([a["correct"] for a in answers])
        windows = [
            {"after": n, **gap(*(a[n : n + args.every] for a in (escalated, correct, edge_ok, cloud_ok)))}
            for n in range(0, len(items) - args.every + 1, args.every)
        ]
        result["arms"][name] = {
            **gap(escalated, correct, edge_ok, cloud_ok),
            "per_topic": per_topic(items, escalated, correct, edge_ok, cloud_ok),
            "served": [{"side": a["side"], "answer": a["answer"]} for a in answers],
            "windows": windows,
            "learned": health.get("learned"),
            "audits": health.get("audits"),
            "guard": health.get("guard"),
            "realized_share": health["cloud_share"]["realized"],
        }
    return result


def plot(result: dict, every: int, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, arm in result["arms"].items():
        windows = [w for w in arm["windows"] if w["G"] is not None]
        ax.plot([w["after"] for w in windows], [w["G"] for w in windows], marker="o", label=name.replace("_", " "))
    ax.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set(
        xlabel=f"questions served before the window (windows of {every})",
        ylabel="gap recovered G in the window",
        title=f"unseen kinds ({', '.join(result['holdout'])}) through the daemon, target share {result['target']}",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_cloud_args(parser)
    parser.add_argument("--holdout", default="units,demonyms", help="built-in sets calibration never sees")
    parser.add_argument("--target", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=100, help="calibration questions per split")
    parser.add_argument("--serve", type=int, default=120, help="held-out questions served")
    parser.add_argument("--every", type=int, default=40, help="questions per window of the learning curve")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--router", default="on", choices=["auto", "on", "off"], help="calibrate's --router")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "unseen_kinds.json")
    args = parser.parse_args()
    quiet_logs()
    with daemon_cloud_flags(args) as cloud:
        result = measure(cloud, args)
    print(f"held out {','.join(result['holdout'])}; calibrated on {result['calibrated_on']}: {result['calibration']}")
    shown = lambda g: "-" if g is None else f"{g:+.2f}"  # noqa: E731
    for name, arm in result["arms"].items():
        g = shown(arm["G"])
        print(
            f"{name:<12} share {arm['share']:.2f} accuracy {arm['accuracy']:.3f} (edge only {arm['edge_only']:.3f}, "
            f"cloud only {arm['cloud_only']:.3f}, random {arm['random']:.3f}, oracle {arm['oracle']:.3f}) G {g}"
        )
        for topic, row in arm["per_topic"].items():
            print(
                f"{'':<12} {topic}: escalated {row['escalated']:.2f} of {row['questions']}, "
                f"edge {row['edge_only']:.2f}, cloud {row['cloud_only']:.2f}, served {row['served_accuracy']:.2f}"
            )
        for w in arm["windows"]:
            print(f"{'':<12} questions {w['after']:>4}+{args.every}: share {w['share']:.2f} G {shown(w['G'])}")
        if arm["guard"]:
            print(f"{'':<12} guard: {arm['guard']['serving']} ({arm['guard']['why']})")
    write_result(args.out, result)
    plot(result, args.every, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
