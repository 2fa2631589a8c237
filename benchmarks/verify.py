"""The cloud as the validator of the edge's draft: verification off, exact and lenient, side by side.

`python -m benchmarks.verify [--per-set 20] [--long 12] [--daemon 6]`: for questions of the built-in sets (short
answers) and explanation questions filled from real data (64-128-token answers), the edge model drafts each answer;
the same question then goes to the cloud with that draft three times, in rotating order, with verification off,
exact and lenient (`--alpha`). Reports per set: drafts fully kept, kept tokens per draft, cloud output tokens and
time per escalation and time to the first chunk (client side), how many exact answers are identical to the unverified
greedy answer, and (short sets) the accuracy of each mode. Then `--daemon` other explanation questions through
three daemons, one per mode (benchmarks.verify_daemon): the app's time to the first chunk and to the end of an
escalated answer. Writes benchmarks/results/verify.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from benchmarks.cache_pairs import countries
from benchmarks.harness import RESULTS_DIR, add_labeled_run_args, edge_agent_for_benchmark, run_against_cloud
from benchmarks.verify_daemon import through_daemons
from edge.agent import EdgeAgent
from edge.calibration.labeled import LabeledItem, builtin, is_correct
from edge.core.query import Query
from edge.uplink.client import CloudClient
from shared.types import DraftVerification, EdgeContext, GenerationResult, VerifyMode

MODES = {
    "off": None,
    "exact": DraftVerification(VerifyMode.EXACT),
    "lenient": None,  # set from --alpha
}
LONG = (
    "Explain in a few sentences where {c} is and what it is known for.",
    "Describe the geography and climate of {c}.",
)


def long_items(n: int, seed: int) -> list[LabeledItem]:
    rng = random.Random(seed)
    chosen = rng.sample(countries(), n)
    return [
        LabeledItem(f"long:{c.name}", LONG[i % len(LONG)].format(c=c.name), (), topic="long")
        for i, c in enumerate(chosen)
    ]


async def escalate(
    client: CloudClient, item: LabeledItem, draft: str, verify: DraftVerification | None, max_tokens: int, rid: str
) -> GenerationResult:
    """The escalation the cascade sends for a drafted bare question (`Query.escalation`)."""
    query = Query(question=item.question, max_tokens=max_tokens, request_id=rid)
    return await client.generate(query.escalation(EdgeContext(draft, 0.0, "bench", "edge"), verify=verify))


def summary(results: dict[str, list[GenerationResult]], items: list[LabeledItem]) -> dict:
    off = results["off"]
    row: dict = {}
    for mode, rs in results.items():
        v = [r.verification for r in rs if r.verification is not None]
        row[mode] = {
            "cloud_output_tokens": statistics.mean(r.completion_tokens for r in rs),
            "cloud_ms": statistics.median(r.client_latency_ms for r in rs),
            "first_chunk_ms": statistics.median(r.client_ttft_ms for r in rs),
            "kept_tokens": statistics.mean(x.accepted_tokens for x in v) if v else 0.0,
            "draft_tokens": statistics.mean(x.draft_tokens for x in v) if v else 0.0,
            "fully_kept": sum(x.accepted_tokens == x.draft_tokens > 0 for x in v) / len(rs),
            "identical_to_off": sum(r.text == o.text for r, o in zip(rs, off, strict=True)),
            "accuracy": None
            if not items[0].answers
            else statistics.mean(is_correct(r.text, i) for r, i in zip(rs, items, strict=True)),
        }
    for mode in ("exact", "lenient"):
        row[mode]["output_tokens_vs_off"] = row[mode]["cloud_output_tokens"] / max(
            row["off"]["cloud_output_tokens"], 1e-9
        )
        row[mode]["cloud_ms_vs_off"] = row[mode]["cloud_ms"] / row["off"]["cloud_ms"]
    return row


async def run_set(agent: EdgeAgent, client: CloudClient, name: str, items: list[LabeledItem], max_tokens: int) -> dict:
    namespace = agent.namespace()
    results: dict[str, list[GenerationResult]] = {mode: [] for mode in MODES}
    for i, item in enumerate(items):
        draft = (await namespace.labeled.draft(Query(question=item.question, max_tokens=max_tokens))).text
        order = list(MODES)[i % 3 :] + list(MODES)[: i % 3]  # rotating, so no mode always runs first
        for mode in order:
            results[mode].append(await escalate(client, item, draft, MODES[mode], max_tokens, f"{name}-{i}-{mode}"))
    return {"questions": len(items), "max_tokens": max_tokens, **summary(results, items)}


async def run(args: argparse.Namespace, cloud_address: str) -> dict:
    MODES["lenient"] = DraftVerification(VerifyMode.LENIENT, args.alpha)
    rng = random.Random(args.seed)
    sets = {name: rng.sample(builtin([name]), args.per_set) for name in args.sets.split(",")}
    report: dict = {"date": time.strftime("%Y-%m-%d"), "alpha": args.alpha, "sets": {}}
    key = args.cloud_api_key
    async with (
        edge_agent_for_benchmark(cloud_address, args.threads, cloud_api_key=key) as agent,
        CloudClient(cloud_address, api_key=key, timeout_s=300) as client,
    ):
        report["cloud_model"] = (await agent.cloud_info()).model_id
        for name, items in sets.items():
            report["sets"][name] = await run_set(agent, client, name, items, 32)
            print(f"{name}: done", flush=True)
        if args.long:
            long = long_items(args.long, args.seed)
            report["sets"]["long answers"] = await run_set(agent, client, "long", long, 128)
    if args.daemon:
        asked = long_items(args.daemon, args.seed + 1)
        report["through_daemon"] = await through_daemons(cloud_address, key, asked, args.alpha, args.threads)
        report["through_daemon"]["questions"] = len(asked)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_labeled_run_args(parser)
    parser.add_argument("--cloud-api-key", default="", help="the running cloud's bearer token, if it requires one")
    parser.set_defaults(sets="capitals,arithmetic,units")
    parser.add_argument("--per-set", type=int, default=20)
    parser.add_argument("--long", type=int, default=12, help="explanation questions (0: none)")
    parser.add_argument("--alpha", type=float, default=0.3, help="lenient: kept while p >= alpha * p(top)")
    parser.add_argument("--daemon", type=int, default=6, help="explanation questions through three daemons (0: none)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "verify.json")
    args = parser.parse_args()
    report = run_against_cloud(args, run)
    print(f"cloud {report['cloud_model']}; per escalation with a draft (exact and lenient against off):")
    for name, row in report["sets"].items():
        off, ex, le = row["off"], row["exact"], row["lenient"]
        print(
            f"{name:<14} n={row['questions']:<3} off {off['cloud_output_tokens']:.1f} tok {off['cloud_ms']:.0f} ms | "
            f"exact kept {ex['kept_tokens']:.1f}/{ex['draft_tokens']:.1f} (whole {ex['fully_kept']:.2f}) "
            f"tokens x{ex['output_tokens_vs_off']:.2f} time x{ex['cloud_ms_vs_off']:.2f} "
            f"identical {ex['identical_to_off']}/{row['questions']} | lenient kept {le['kept_tokens']:.1f} "
            f"tokens x{le['output_tokens_vs_off']:.2f} time x{le['cloud_ms_vs_off']:.2f} accuracy "
            f"{le['accuracy']} vs exact {ex['accuracy']}"
        )
    if daemon := report.get("through_daemon"):
        print(
            f"through the daemon ({daemon['questions']} explanations, drafted then escalated), p50 ms first chunk / "
            "end to end: "
            + ", ".join(f"{m} {daemon[m]['first_chunk_ms']:.0f} / {daemon[m]['end_to_end_ms']:.0f}" for m in MODES)
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
