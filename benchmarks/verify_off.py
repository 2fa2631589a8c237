"""With draft verification off, the cloud is no slower than before verification existed: side by side, one run.

`python -m benchmarks.verify_off [--baseline REV] [--rounds 6] [--n 10]` exports the tree at REV (default: the
commit before draft verification) and serves it next to the current tree, both on the same model; each round asks
one of them the same `--n` escalations with a draft and verification off, alternating which goes first, one request
at a time. Reports per round the ratio current / baseline of the median cloud time (client side) and of the time
to the first chunk, and their median with min-max. The baseline is checked to be the old code: it refuses the
verification field that the current tree accepts. Writes benchmarks/results/verify_off.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import grpc

from benchmarks.cache_pairs import countries
from benchmarks.harness import RESULTS_DIR, quiet_logs, write_result
from edge.core.query import Query
from edge.uplink.client import CloudClient
from shared.launchers import CloudProcess
from shared.types import DraftVerification, EdgeContext, GenerationRequest, VerifyMode

BEFORE_VERIFICATION = "6b32566"  # the last commit without draft verification
ROOT = Path(__file__).resolve().parent.parent


def requests(n: int) -> list[GenerationRequest]:
    """Drafted escalations as a daemon with `verify_draft = "off"` sends them (the draft travels, unverified)."""
    asked = []
    for i, c in enumerate(countries()[:n]):
        query = Query(question=f"What is the capital of {c.name}?", max_tokens=32, request_id=f"off-{i}")
        asked.append(query.escalation(EdgeContext(f"The capital of {c.name} is", 0.5, "bench", "edge")))
    return asked


async def one_round(address: str, asked: list[GenerationRequest]) -> tuple[float, float]:
    """(median ms per answer, median ms to the first chunk), one request at a time."""
    async with CloudClient(address, timeout_s=300) as client:
        results = [await client.generate(r) for r in asked]
    return statistics.median(r.client_latency_ms for r in results), statistics.median(r.client_ttft_ms for r in results)


async def refuses_verification(address: str, asked: GenerationRequest) -> bool:
    verified = replace(asked, request_id=f"{asked.request_id}-check", verify=DraftVerification(VerifyMode.EXACT))
    async with CloudClient(address, timeout_s=300) as client:
        try:
            return (await client.generate(verified)).verification is None
        except grpc.aio.AioRpcError as refused:  # an older contract: "does not know" the field
            return refused.code() == grpc.StatusCode.INVALID_ARGUMENT


async def measure(addresses: dict[str, str], rounds: int, n: int) -> dict:
    asked = requests(n)
    if not await refuses_verification(addresses["baseline"], asked[0]):
        raise RuntimeError("the baseline verified a draft: it is not the code from before verification")
    if await refuses_verification(addresses["current"], asked[0]):
        raise RuntimeError("the current tree did not verify a draft")
    for side in addresses:  # warm-up: the first requests of a fresh engine compile and fill caches
        await one_round(addresses[side], asked[:2])
    rows: list[dict] = []
    ratios: list[float] = []
    first: list[float] = []
    for r in range(rounds):
        order = ("baseline", "current") if r % 2 == 0 else ("current", "baseline")
        got = {side: await one_round(addresses[side], asked) for side in order}
        ratios.append(got["current"][0] / got["baseline"][0])
        first.append(got["current"][1] / got["baseline"][1])
        rows.append({"first": order[0], "ms": {side: got[side][0] for side in order}})
    return {
        "rounds": rows,
        "median_ratio_ms": statistics.median(ratios),
        "min_max_ratio_ms": [min(ratios), max(ratios)],
        "median_ratio_first_chunk": statistics.median(first),
        "min_max_ratio_first_chunk": [min(first), max(first)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default=BEFORE_VERIFICATION, help="git revision to compare against")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--n", type=int, default=10, help="escalations per round")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "verify_off.json")
    args = parser.parse_args()
    quiet_logs()
    with tempfile.TemporaryDirectory(prefix="tandem-baseline-") as tree, contextlib.ExitStack() as stack:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
        flags = ["--backend", "vllm", "--log-level", "WARNING"]
        # The baseline's packages first: PYTHONSAFEPATH keeps the working directory (this tree) off sys.path.
        old = {"PYTHONPATH": tree, "PYTHONSAFEPATH": "1"}
        addresses = {
            "baseline": stack.enter_context(CloudProcess(flags, env=old)).address,
            "current": stack.enter_context(CloudProcess(flags)).address,
        }
        print("both clouds ready", flush=True)
        result = asyncio.run(measure(addresses, args.rounds, args.n))
    result |= {"baseline": args.baseline, "escalations_per_round": args.n}
    print(
        f"verification off, current / {args.baseline} (median of {args.rounds} alternating rounds of {args.n}): "
        f"cloud time x{result['median_ratio_ms']:.3f} (min-max {result['min_max_ratio_ms'][0]:.3f}-"
        f"{result['min_max_ratio_ms'][1]:.3f}), first chunk x{result['median_ratio_first_chunk']:.3f}"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
