"""What every benchmark shares: where results go, a cloud service to measure against, an uncached edge agent."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from edge.agent import EdgeAgent
from edge.calibration.labeled import LabeledItem
from edge.calibration.outcomes import Outcome, collect_outcomes
from shared.cli_flags import edge_config
from shared.launchers import CloudProcess, free_port
from shared.logging_setup import configure_logging
from shared.types import ModelInfo

RESULTS_DIR = Path(__file__).parent / "results"
T = TypeVar("T")


def quiet_logs() -> None:
    """Benchmarks print their own tables; expected warnings (e.g. degraded answers on purpose) stay out."""
    configure_logging("ERROR", "text")


def add_cloud_args(parser: argparse.ArgumentParser) -> None:
    """Flags of the benchmarks that start their cloud unless given a running one (`daemon_cloud_flags`)."""
    parser.add_argument("--cloud-address", help="use a running cloud service instead of starting one")
    parser.add_argument("--cloud-api-key", default="", help="its bearer token, if it requires one")


def write_result(out: Path, result: dict) -> None:
    """The benchmark's JSON, dated, where the README says it is."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), **result}, indent=2))


def add_labeled_run_args(parser: argparse.ArgumentParser) -> None:
    """Flags of every benchmark that runs labeled questions through the edge and a cloud."""
    parser.add_argument("--cloud-address", help="use a running cloud service instead of starting one")
    parser.add_argument("--backend", default="vllm", choices=["vllm", "llamacpp"], help="cloud engine to start")
    parser.add_argument("--sets", default="capitals", help="comma-separated built-in sets: capitals,regions,arithmetic")
    parser.add_argument("--seed", type=int, default=0, help="seed of the calibration/evaluation split")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memo", type=Path, default=RESULTS_DIR / "cache" / "outcomes.jsonl")


def run_against_cloud(
    args: argparse.Namespace, job: Callable[[argparse.Namespace, str], Coroutine[Any, Any, T]], needs_cloud: bool = True
) -> T:
    """Runs `job(args, cloud_address)` against --cloud-address, or a cloud service started for it (none when
    the job only runs the edge: it then gets an address nothing listens on)."""
    quiet_logs()
    with contextlib.ExitStack() as stack:
        if not needs_cloud:
            return asyncio.run(job(args, args.cloud_address or f"127.0.0.1:{free_port()}"))
        address = args.cloud_address or stack.enter_context(cloud_for_benchmark(args.backend)).address
        return asyncio.run(job(args, address))


@contextlib.contextmanager
def cloud_for_benchmark(backend: str = "vllm", flags: list[str] | None = None) -> Iterator[CloudProcess]:
    print(f"starting the cloud service ({backend}) ...", flush=True)
    with CloudProcess(["--backend", backend, "--log-level", "WARNING", *(flags or [])]) as cloud:
        print(f"cloud service ready in {cloud.startup_seconds:.0f} s", flush=True)
        yield cloud


@contextlib.contextmanager
def daemon_cloud_flags(args: argparse.Namespace) -> Iterator[list[str]]:
    """The --cloud-address (and --cloud-api-key) flags a daemon or calibrate gets: the running cloud the args name,
    or one started for the benchmark."""
    with contextlib.ExitStack() as stack:
        address = args.cloud_address or stack.enter_context(cloud_for_benchmark()).address
        yield ["--cloud-address", address, *(["--cloud-api-key", args.cloud_api_key] if args.cloud_api_key else [])]


@contextlib.asynccontextmanager
async def edge_agent_for_benchmark(cloud_address: str, threads: int = 2, **flags: object) -> AsyncIterator[EdgeAgent]:
    """An edge agent on a throw-away data dir, answer cache off unless asked for ([edge] flags by name)."""
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as data_dir:
        flags = {"cloud_address": cloud_address, "threads": threads, "cache_enabled": False, **flags}
        async with EdgeAgent(edge_config(data_dir, **flags)) as agent:
            yield agent


async def label_and_embed(
    agent: EdgeAgent, splits: list[list[LabeledItem]], memo: Path
) -> tuple[ModelInfo, list[list[Outcome]], list[np.ndarray]]:
    """Each split's outcomes with both real models (memoized) and its questions' embeddings."""
    info = await agent.cloud_info()
    namespace, concurrency = agent.namespace(), min(8, info.max_concurrent_requests)
    outcomes = [await collect_outcomes(namespace, items, memo, cloud=info, concurrency=concurrency) for items in splits]
    vectors = []
    for out in outcomes:
        embedded = await namespace.labeled.route_vectors([o.item.question for o in out])
        if embedded is None:
            raise RuntimeError("benchmarks embed their questions: keep the router or the semantic cache on")
        vectors.append(embedded)
    return info, outcomes, vectors
