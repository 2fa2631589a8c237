"""What audits cost the app: two daemons side by side, audits on and off, the same questions.

`python -m benchmarks.audit_cost [--rate 0.1] [--rounds 5] [--per-round 20]`: two `tandem-edge serve` daemons on
one cloud with their defaults except the audit rate (`--rate` against 0; the hourly budget lifted, the online
guard off with its warm-up audits, so the configured rate is the one measured). Each round asks both daemons the
same new questions through the official `openai` client, one at a time, the order of the two arms alternating by
round; between arms the background audits are waited for, so each arm's latency carries only its own audits.
Reports per arm the app-visible latency (p50 of each round, and the median over rounds of the on/off ratio of
p50s) and the realized audit rate against the configured one (with its binomial standard error); writes
benchmarks/results/audit_cost.json. The cloud runs on the same cores here, so an audit's cloud call competes
with the edge's next answer: on a device whose cloud is elsewhere it costs less.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import openai

from benchmarks.harness import RESULTS_DIR, add_cloud_args, daemon_cloud_flags, quiet_logs, write_result
from benchmarks.stats import percentile
from edge.calibration.labeled import arithmetic
from shared.launchers import DaemonProcess

ARMS = ("audits_on", "audits_off")


def latencies(daemon: DaemonProcess, questions: list[str]) -> list[float]:
    client = openai.OpenAI(base_url=f"{daemon.base_url}/v1", api_key="unused", max_retries=0, timeout=120)
    out = []
    for question in questions:
        started = time.perf_counter()
        client.chat.completions.create(model="tandem", messages=[{"role": "user", "content": question}])
        out.append((time.perf_counter() - started) * 1000)
    return out


def audits_settled(daemon: DaemonProcess, timeout_s: float = 300.0) -> dict:
    """The daemon's audit report once every sampled audit has finished or failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        audits = daemon.healthz()["namespaces"][""]["audits"]
        if audits is None or audits["finished"] + audits["failed"] >= audits["sampled"]:
            return audits or {}
        if time.monotonic() > deadline:
            raise TimeoutError(f"audits still running after {timeout_s:.0f} s: {audits}")
        time.sleep(0.2)  # polling another process's endpoint


def measure(cloud: list[str], args: argparse.Namespace) -> dict:
    pool = [item.question for item in arithmetic()]
    np.random.default_rng(args.seed).shuffle(pool)
    need = args.rounds * args.per_round
    if need > len(pool):
        raise SystemExit(f"--rounds x --per-round asks {need} questions; the arithmetic set has {len(pool)}")
    rates = {"audits_on": args.rate, "audits_off": 0.0}
    per_round: dict[str, list[float]] = {arm: [] for arm in ARMS}
    with tempfile.TemporaryDirectory(prefix="tandem-audits-") as tmp, contextlib.ExitStack() as stack:
        daemons = {}
        for arm in ARMS:
            flags = [*cloud, "--log-level", "WARNING", "--router-audit-rate", str(rates[arm])]
            flags += ["--router-audit-per-hour", "1000000", "--guard-enabled", "false"]
            daemons[arm] = stack.enter_context(DaemonProcess(flags, data_dir=str(Path(tmp) / arm)))
        for r in range(args.rounds):
            questions = pool[r * args.per_round : (r + 1) * args.per_round]
            for arm in ARMS if r % 2 == 0 else ARMS[::-1]:
                per_round[arm].append(percentile(latencies(daemons[arm], questions), 50))
                audits_settled(daemons[arm])
            on, off = per_round["audits_on"][-1], per_round["audits_off"][-1]
            print(f"round {r + 1}: app p50 audits on {on:.0f} ms, off {off:.0f} ms", flush=True)
        audits = audits_settled(daemons["audits_on"])
    eligible = max(1, audits.get("eligible", 0))
    realized = audits.get("sampled", 0) / eligible
    ratios = [on / off for on, off in zip(per_round["audits_on"], per_round["audits_off"], strict=True)]
    return {
        "configured_rate": args.rate,
        "realized_rate": realized,
        "rate_standard_error": math.sqrt(args.rate * (1 - args.rate) / eligible),
        "audits": audits,
        "questions_per_arm": need,
        "p50_ms_per_round": per_round,
        "p50_on_over_off_median": float(np.median(ratios)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_cloud_args(parser)
    parser.add_argument("--rate", type=float, default=0.1, help="audit rate of the audits-on daemon")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=20, help="questions per round and arm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "audit_cost.json")
    args = parser.parse_args()
    quiet_logs()
    with daemon_cloud_flags(args) as cloud:
        result = measure(cloud, args)
    print(
        f"audits at {args.rate:.3f}: realized {result['realized_rate']:.3f} "
        f"(± {result['rate_standard_error']:.3f}, {result['audits'].get('eligible', 0)} kept answers); "
        f"app p50 on/off median ratio {result['p50_on_over_off_median']:.3f}"
    )
    write_result(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
