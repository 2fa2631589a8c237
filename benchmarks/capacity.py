"""How many engine replicas a fleet needs: measured per replica here, then projected.

`python -m benchmarks.capacity [--devices 10000 --questions-per-day 50 --escalation-rate 0.3
--answer-tokens 64 --p99-target-s 10]` measures one replica (one Tandem vLLM engine) at several concurrencies
and answer lengths (requests/s, tokens/s, p99 latency, load from a separate client process), then:

    peak requests/s  = devices × questions per day × escalation rate × peak factor / 86 400
    replica capacity = the most requests/s one replica served with p99 ≤ target, at the answer length
    replicas         = ⌈ peak requests/s / replica capacity ⌉

Writes benchmarks/results/capacity.json and capacity.png (replicas needed against fleet size). `--points
earlier.json` projects other fleets from an earlier run's measured points without measuring again.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import time
from pathlib import Path

from benchmarks.harness import RESULTS_DIR, cloud_for_benchmark, quiet_logs
from benchmarks.loadgen import Target, run_load

PROMPT = "Write a story about a lighthouse keeper and the sea."
SECONDS_PER_DAY = 86_400


@dataclasses.dataclass(frozen=True)
class Fleet:
    devices: int
    questions_per_day: float
    escalation_rate: float
    answer_tokens: int
    p99_target_s: float
    peak_factor: float = 3.0  # the busiest hour against the day's mean

    @property
    def peak_requests_per_s(self) -> float:
        daily = self.devices * self.questions_per_day * self.escalation_rate
        return daily * self.peak_factor / SECONDS_PER_DAY


def replica_capacity(points: list[dict], answer_tokens: int, p99_target_s: float) -> float:
    """Requests/s one replica sustains within the p99 target at the measured length nearest `answer_tokens`
    (scaled by tokens when the lengths differ); 0 when no measured load meets the target."""
    nearest = min({p["answer_tokens"] for p in points}, key=lambda n: abs(n - answer_tokens))
    within = [p for p in points if p["answer_tokens"] == nearest and p["p99_ms"] <= p99_target_s * 1000]
    if not within:
        return 0.0
    return max(p["req_s"] for p in within) * nearest / answer_tokens


def replicas_needed(fleet: Fleet, capacity_req_s: float) -> int | None:
    """None when one replica cannot meet the p99 target at any measured load (a faster engine is needed)."""
    if capacity_req_s <= 0:
        return None
    return max(1, math.ceil(fleet.peak_requests_per_s / capacity_req_s))


def measure(address: str, concurrency: list[int], lengths: list[int], rounds: int, api_key: str = "") -> list[dict]:
    target = Target("tandem", address, PROMPT, api_key=api_key)
    run_load(target, 1, 4, 1, 1)  # warm-up
    points = []
    for tokens in lengths:
        for c in concurrency:
            r = run_load(target, c, tokens, rounds, 1)
            points.append({"answer_tokens": tokens, **r})
            print(f"  {tokens:4d} tokens x{c:3d}: {r['req_s']:6.2f} req/s, {r['tok_s']:7.1f} tok/s, "
                  f"p99 {r['p99_ms']:7.0f} ms")  # fmt: skip
    return points


def plot(points: list[dict], fleet: Fleet, capacity: float, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for tokens in sorted({p["answer_tokens"] for p in points}):
        row = [p for p in points if p["answer_tokens"] == tokens]
        left.plot(
            [p["concurrency"] for p in row], [p["tok_s"] for p in row], marker="o", label=f"{tokens}-token answers"
        )
    left.set(xscale="log", xlabel="concurrent streams", ylabel="tokens/s", title="one replica, measured here")
    left.legend()
    devices = [10 ** (k / 4) for k in range(8, 25)]
    if capacity <= 0:
        right.text(0.5, 0.5, f"no measured load met p99 ≤ {fleet.p99_target_s:g} s:\na faster engine is needed",
                   ha="center", va="center", transform=right.transAxes)  # fmt: skip
        right.set_axis_off()
    else:
        for rate in (0.1, 0.3, 0.5):
            at_rate = dataclasses.replace(fleet, escalation_rate=rate)
            needed = [replicas_needed(dataclasses.replace(at_rate, devices=int(d)), capacity) for d in devices]
            right.plot(devices, [n or float("nan") for n in needed], label=f"escalation {rate:.0%}")
        right.set(
            xscale="log",
            yscale="log",
            xlabel="devices",
            ylabel="replicas",
            title=f"{fleet.questions_per_day:g} questions/device/day, {fleet.answer_tokens} tokens, p99 ≤ "
            f"{fleet.p99_target_s:g} s",
        )
        right.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--questions-per-day", type=float, default=50)
    parser.add_argument("--escalation-rate", type=float, default=0.3)
    parser.add_argument("--answer-tokens", type=int, default=64)
    parser.add_argument("--p99-target-s", type=float, default=10.0)
    parser.add_argument("--peak-factor", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 32])
    parser.add_argument("--lengths", type=int, nargs="+", default=[16, 64, 128])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cloud-address", default="", help="a running Tandem cloud (one engine) to measure")
    parser.add_argument("--cloud-api-key", default="", help="its API key, if it requires one")
    parser.add_argument("--points", type=Path, help="project from the points of an earlier run's JSON, not measuring")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "capacity.json")
    args = parser.parse_args()
    if not 0 < args.escalation_rate <= 1:
        parser.error("--escalation-rate must be in (0, 1]")
    quiet_logs()
    fleet = Fleet(
        args.devices, args.questions_per_day, args.escalation_rate, args.answer_tokens, args.p99_target_s,
        args.peak_factor,
    )  # fmt: skip
    if args.points:
        points = json.loads(args.points.read_text())["points"]
    else:
        with contextlib.ExitStack() as stack:
            flags = ["--max-concurrent-requests", str(max(args.concurrency))]
            address = args.cloud_address or stack.enter_context(cloud_for_benchmark("vllm", flags)).address
            points = measure(address, args.concurrency, args.lengths, args.rounds, args.cloud_api_key)
    capacity = replica_capacity(points, fleet.answer_tokens, fleet.p99_target_s)
    needed = replicas_needed(fleet, capacity)
    print(
        f"peak demand = {fleet.devices} devices × {fleet.questions_per_day:g} q/day × {fleet.escalation_rate:.0%} "
        f"escalated × {fleet.peak_factor:g} peak / 86 400 s = {fleet.peak_requests_per_s:.2f} req/s\n"
        f"one replica: {capacity:.2f} req/s of {fleet.answer_tokens}-token answers at p99 ≤ {fleet.p99_target_s:g} s\n"
        f"replicas = ⌈{fleet.peak_requests_per_s:.2f} / {capacity:.2f}⌉ = "
        + (str(needed) if needed else "none meets the p99 target: use a faster engine or a longer target")
    )
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "fleet": {**fleet.__dict__, "peak_requests_per_s": fleet.peak_requests_per_s},
        "replica_capacity_req_s": capacity,
        "replicas_needed": needed,
        "points": points,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    plot(points, fleet, capacity, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
