"""Fleet learning, measured: what a fleet router does for a device with no labels, and the pipeline's throughput.

`python -m benchmarks.fleet [--sets calling_codes,demonyms,currencies] [--devices 8] [--records 100000]`:
1. Learning: the edge and the cloud answer the sets' questions (memoized, as `benchmarks.quality`); a stream of
   half of them is spread over `--devices` simulated devices of one tenant, each escalating at random half of what
   it answers (the cloud records each through the service's own code, `FleetHub.escalated`) and sending a few
   feedback labels (`--feedback` per device). `tandem-cloud fleet build` (the same function, on local Ray) makes the
   signed router; a new device with no labels of its own verifies it and routes the other half with it, against the
   same device without it, at the same cloud shares. The learning curve rebuilds from the first 0, 100, 300 and
   1,000 records of the stream (as many as there are).
2. Pipeline: `--records` synthetic records (384-d embeddings, 8 tenants) written as the service writes them, then
   built: seconds and records per second (0: skipped).
Writes benchmarks/results/fleet.json and fleet.png.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.harness import (
    RESULTS_DIR,
    add_labeled_run_args,
    edge_agent_for_benchmark,
    label_and_embed,
    run_against_cloud,
)
from cloud.fleet.artifacts import ArtifactStore
from cloud.fleet.build import build
from cloud.fleet.hub import FleetHub
from cloud.fleet.records import FleetRecord, schema
from edge.cache.embeddings import SentenceEmbedder
from edge.calibration.curves import accuracy_at_share, cascade_curve
from edge.calibration.labeled import builtin, split
from edge.calibration.outcomes import Outcome
from edge.calibration.served import served_scores
from edge.confidence.estimators import create_estimator
from edge.routing.fleet_layer import FleetLayer, WithFleet
from edge.routing.outcome_store import OutcomeRows
from edge.routing.policy import KnnRoutePolicy
from shared.config import CloudFleetConfig, load_config
from shared.fleet_artifact import load_public_key, verify_artifact
from shared.types import EdgeContext, GenerationRequest, SamplingParams

SHARES = (0.25, 0.5)
CURVE = (0, 100, 300, 1000)
TENANT = "fleet"


def record_stream(
    root: Path, stream: list[Outcome], vectors: np.ndarray, devices: int, feedback: int, seed: int
) -> int:
    """The fleet's records of the stream, as the service makes them; returns how many."""
    hub = FleetHub(CloudFleetConfig(consent=["*"], flush_records=10**9), root)
    rng, labeled, written = random.Random(seed), [0] * devices, 0
    for i, (outcome, vector) in enumerate(zip(stream, vectors, strict=True)):
        device, embedding = i % devices, tuple(float(x) for x in vector)
        if rng.random() < 0.5 and outcome.cloud is not None:
            context = EdgeContext(
                outcome.edge.answer, 0.5, "mean_logprob", "edge", "embeddings", embedding, SentenceEmbedder.name
            )
            asked = GenerationRequest(
                f"d{device}-{i}", SamplingParams(max_tokens=32), question=outcome.item.question, edge_context=context
            )
            hub.escalated(TENANT, asked, outcome.cloud.answer, [], outcome.item.question)
            written += 1
        if labeled[device] < feedback:  # the app said whether the edge's answer was right
            labeled[device] += 1
            label = FleetRecord(
                TENANT,
                time.time(),
                "label",
                f"d{device}:{i}",
                f"d{device}",
                SentenceEmbedder.name,
                list(embedding),
                edge_correct=float(outcome.edge_correct),
                source="feedback",
            )
            hub.add_labels([label])
            written += 1
    hub.recorder.flush_now()
    return written


def new_device_accuracy(root: Path | None, evaluation: list[Outcome], vectors: np.ndarray) -> dict[str, float]:
    """Accuracy at each cloud share of a device with no labels: with the fleet's router from `root` (verified as a
    device verifies it) or, with None, without any router."""
    config = load_config().edge
    estimator = create_estimator(config.confidence.estimator, config.confidence.quantile)
    advice = routing = None
    if root is not None:
        layer = FleetLayer()
        found = ArtifactStore(root).latest(TENANT)
        assert found is not None, "the build wrote no router"
        manifest, rows = verify_artifact(
            found.manifest,
            found.signature,
            found.payload,
            load_public_key(root / "signing.pub"),
            SentenceEmbedder.name,
            SentenceEmbedder.dim,
        )
        layer.swap(manifest, rows)
        routing = config.routing
        advice = KnnRoutePolicy(WithFleet(layer, OutcomeRows.empty()), routing, config.fleet.weight).advice_rows(
            vectors
        )
    scores = served_scores(evaluation, estimator, advice, routing)
    curve = cascade_curve(
        scores, np.array([o.edge_correct for o in evaluation]), np.array([o.cloud_correct for o in evaluation])
    )
    return {f"{s:.2f}": accuracy_at_share(curve, s) for s in SHARES}


async def learning(args: argparse.Namespace, cloud_address: str) -> dict:
    stream_items, eval_items = split(builtin(args.sets.split(",")), seed=args.seed)
    if args.limit:
        stream_items, eval_items = stream_items[: args.limit], eval_items[: args.limit]
    async with edge_agent_for_benchmark(cloud_address, args.threads) as agent:
        _, (stream, evaluation), (stream_vec, eval_vec) = await label_and_embed(
            agent, [stream_items, eval_items], args.memo
        )
    without = new_device_accuracy(None, evaluation, eval_vec)
    curve: list[dict] = []
    for n in [c for c in CURVE if c <= len(stream)] + ([len(stream)] if len(stream) not in CURVE else []):
        with tempfile.TemporaryDirectory(prefix="tandem-fleet-") as tmp:
            root = Path(tmp)
            written = record_stream(root, stream[:n], stream_vec[:n], args.devices, args.feedback, args.seed)
            if written == 0:
                curve.append({"questions": n, "records": 0, "accuracy": without})
                continue
            build(CloudFleetConfig(consent=["*"]), root)
            curve.append(
                {"questions": n, "records": written, "accuracy": new_device_accuracy(root, evaluation, eval_vec)}
            )
        print(f"fleet of {n} questions: {curve[-1]}", flush=True)
    full: dict[str, float] = curve[-1]["accuracy"]
    edge_ok = np.mean([o.edge_correct for o in evaluation])
    cloud_ok = np.mean([o.cloud_correct for o in evaluation])
    return {
        "sets": args.sets,
        "devices": args.devices,
        "feedback_per_device": args.feedback,
        "evaluation_questions": len(evaluation),
        "edge_only": float(edge_ok),
        "cloud_only": float(cloud_ok),
        "without_fleet": without,
        "with_fleet": full,
        "ratio": {s: full[s] / without[s] if without[s] else None for s in without},
        "learning_curve": curve,
    }


def pipeline(n: int, dim: int = 384, tenants: int = 8) -> dict:
    """`n` synthetic records in the service's schema, then one build: the pipeline's own throughput."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="tandem-fleet-pipeline-") as tmp:
        root = Path(tmp)
        per = n // tenants
        for t in range(tenants):
            flat = rng.normal(size=per * dim).astype(np.float32)
            embedding = pa.ListArray.from_arrays(
                pa.array(np.arange(0, per * dim + 1, dim, dtype=np.int32)), pa.array(flat)
            )
            fields = schema()
            columns = {name: pa.nulls(per, type=fields.field(name).type) for name in fields.names}
            columns |= {
                "created": pa.array(np.full(per, time.time())),
                "kind": pa.array(["escalation"] * per),
                "record_id": pa.array([f"r{i}" for i in range(per)]),
                "embedder": pa.array([SentenceEmbedder.name] * per),
                "embedding": embedding,
                "agreement": pa.array(rng.random(per) < 0.5),
                "source": pa.array(["agreement"] * per),
            }
            folder = root / "records" / f"tenant=t{t}" / f"day={time.strftime('%Y-%m-%d')}"
            folder.mkdir(parents=True)
            pq.write_table(pa.table([columns[name] for name in fields.names], schema=fields), folder / "part-0.parquet")
        started = time.perf_counter()
        report = build(CloudFleetConfig(consent=["*"]), root)
        seconds = time.perf_counter() - started
    return {
        "records": report.records_read,
        "seconds": round(seconds, 1),
        "records_per_s": round(report.records_read / seconds),
    }


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for share in (f"{s:.2f}" for s in SHARES):
        ax.plot(
            [c["records"] for c in result["learning_curve"]],
            [c["accuracy"][share] for c in result["learning_curve"]],
            "o-",
            label=f"with the fleet router, share {share}",
        )
        ax.axhline(result["without_fleet"][share], ls="--", lw=0.8, label=f"without, share {share}")
    ax.set_xlabel("fleet records")
    ax.set_ylabel("new device's accuracy")
    ax.set_title(f"Fleet learning ({result['sets']})", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_labeled_run_args(parser)
    parser.set_defaults(sets="calling_codes,demonyms,currencies")
    parser.add_argument("--limit", type=int, default=0, help="at most this many questions per half (0: all)")
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--feedback", type=int, default=3, help="feedback labels per device")
    parser.add_argument("--records", type=int, default=100_000, help="synthetic records for the pipeline (0: skip)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "fleet.json")
    args = parser.parse_args()
    result = run_against_cloud(args, learning)
    if args.records:
        result["pipeline"] = pipeline(args.records)
    result["date"] = time.strftime("%Y-%m-%d")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    plot(result, args.out.with_suffix(".png"))
    for share in result["without_fleet"]:
        print(
            f"new device at cloud share {share}: {result['without_fleet'][share]:.3f} without the fleet router, "
            f"{result['with_fleet'][share]:.3f} with it (x{result['ratio'][share] or float('nan'):.2f})"
        )
    if "pipeline" in result:
        p = result["pipeline"]
        print(f"pipeline: {p['records']} records built in {p['seconds']} s ({p['records_per_s']} records/s)")
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
