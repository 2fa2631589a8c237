"""The served cloud share against the calibrated target, exactly as users run Tandem.

`python -m benchmarks.served_share [--target 0.5] [--limit 300] [--clients 4]`: `tandem-edge calibrate` (a
child process, built-in sets, --estimators all, --write a config), then `tandem-edge serve` on that config with
every other setting at its default, then the held-out questions through the official `openai` client from
several threads at once (the cloud on the same machine). Reports the share served by the cloud, the daemon's
own realized share (/healthz), calibrate's held-out prediction and the accuracy, and writes
benchmarks/results/served_share.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openai

from benchmarks.harness import RESULTS_DIR, add_cloud_args, daemon_cloud_flags, quiet_logs, write_result
from edge.calibration.labeled import builtin, is_correct, split
from shared.launchers import DaemonProcess


def calibrate(
    data_dir: str, cloud: list[str], config: Path, target: float, sets: str, limit: int = 0, *extra: str
) -> dict:
    """As a user would: where the guard finds no policy better than the simple choices, the better side alone;
    `extra`: more calibrate flags."""
    cmd = [sys.executable, "-m", "edge.cli", "--data-dir", data_dir, "calibrate", *cloud, *extra]
    cmd += ["--target-cloud-share", str(target), "--estimators", "all", "--sets", sets, "--limit", str(limit)]
    cmd += ["--write", str(config), "--json", "--fallback"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode:
        raise RuntimeError(f"calibrate failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def chosen_row(report: dict) -> dict:
    router = report["served_policy"]["router"]
    return next(r for r in report["estimators"] if (r["estimator"], r["router"]) == (report["chosen"], router))


def ask_all(daemon: DaemonProcess, items: list, clients: int, tandem: dict | None = None) -> list[dict]:
    """Each item through the official `openai` client: its side (a degraded answer counts as escalated, as in the
    daemon's own share), whether it is right, whether a device rule moved the threshold."""
    client = openai.OpenAI(base_url=f"{daemon.base_url}/v1", api_key="unused", max_retries=0, timeout=120)

    def ask(item) -> dict:
        reply = client.chat.completions.create(
            model="tandem",
            messages=[{"role": "user", "content": item.question}],
            extra_body={"tandem": tandem} if tandem else None,
        )
        meta = (reply.model_extra or {})["tandem"]
        text = reply.choices[0].message.content or ""
        return {
            "answer": text,
            "side": "cloud" if meta["degraded"] else meta["served_by"],
            "correct": is_correct(text, item),
            "shifted": any(r.startswith("device") for r in meta["reasons"]),
            "degraded": meta["degraded_reason"],
        }

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(ask, items))


def measure(cloud: list[str], target: float, limit: int, clients: int, sets: str, hold: bool) -> dict:
    """`cloud`: the --cloud-address (and --cloud-api-key) flags both programs get; `hold`: the daemon runs the
    online controller calibrate writes (off: the calibrated threshold alone)."""
    with tempfile.TemporaryDirectory(prefix="tandem-share-") as data_dir:
        config = Path(data_dir) / "tandem.toml"
        report = calibrate(data_dir, cloud, config, target, sets, limit, "--hold-share" if hold else "--no-hold-share")
        chosen = chosen_row(report)
        held = split(builtin(sets.split(",")), seed=0)[1][:limit]
        flags = [*cloud, "--log-level", "WARNING"]
        with DaemonProcess(flags, data_dir=data_dir, env={"TANDEM_CONFIG": str(config)}) as daemon:
            started = time.perf_counter()
            answers = ask_all(daemon, held, clients)
            seconds = time.perf_counter() - started
            realized = daemon.healthz()["namespaces"][""]["cloud_share"]
    degraded = [a["degraded"] for a in answers if a["degraded"]]
    served = [a["side"] for a in answers]
    return {
        "target": target,
        "online_controller": report.get("holds_cloud_share") is not None,
        "wrote_fallback": report.get("wrote_fallback"),
        "questions": len(held),
        "clients": clients,
        "chosen_estimator": report["chosen"],
        "threshold": chosen["threshold"],
        "calibration_share": chosen["calibration"]["cloud_share"],
        "predicted_held_out_share": chosen["held_out"]["cloud_share"],
        "escalated_share": float(np.mean([s == "cloud" for s in served])),
        "served_cache_share": float(np.mean([s == "cache" for s in served])),
        "daemon_realized_share": realized["realized"],
        "accuracy": float(np.mean([a["correct"] for a in answers])),
        "device_shifted_share": float(np.mean([a["shifted"] for a in answers])),
        "degraded": {reason: degraded.count(reason) for reason in sorted(set(degraded))},
        "predicted_held_out_accuracy": chosen["held_out"]["accuracy"],
        "cloud_only_accuracy": report["cloud_only_accuracy_held_out"],
        "edge_only_accuracy": report["edge_only_accuracy_held_out"],
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_cloud_args(parser)
    parser.add_argument("--target", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=300, help="questions per split")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--sets", default="all")
    parser.add_argument(
        "--hold",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the daemon holds the calibrated share online, as calibrate writes it (--no-hold: the threshold alone)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "served_share.json")
    args = parser.parse_args()
    quiet_logs()
    with daemon_cloud_flags(args) as cloud:
        row = measure(cloud, args.target, args.limit, args.clients, args.sets, args.hold)
    print(
        f"target {row['target']:.2f}: calibrate predicted {row['predicted_held_out_share']:.3f} on held-out; the "
        f"daemon escalated {row['escalated_share']:.3f} ({row['clients']} clients, "
        f"{row['questions']} questions; realized share in /healthz {row['daemon_realized_share']}; device rules "
        f"shifted {row['device_shifted_share']:.0%} of the answers; degraded {row['degraded'] or 'none'})"
    )
    print(
        f"accuracy {row['accuracy']:.3f} (predicted {row['predicted_held_out_accuracy']:.3f}; cloud only "
        f"{row['cloud_only_accuracy']:.3f}, edge only {row['edge_only_accuracy']:.3f})"
    )
    write_result(args.out, row)


if __name__ == "__main__":
    main()
