"""What every benchmark shares: where results go, a cloud service to measure against, an uncached edge agent."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from cloud.launcher import CloudProcess
from edge.agent import EdgeAgent
from shared.config import load_config
from shared.logging_setup import configure_logging

RESULTS_DIR = Path(__file__).parent / "results"


def quiet_logs() -> None:
    """Benchmarks print their own tables; expected warnings (e.g. degraded answers on purpose) stay out."""
    configure_logging("ERROR", "text")


@contextlib.contextmanager
def cloud_for_benchmark(backend: str = "vllm", flags: list[str] | None = None) -> Iterator[CloudProcess]:
    print(f"starting the cloud service ({backend}) ...", flush=True)
    with CloudProcess(["--backend", backend, "--log-level", "WARNING", *(flags or [])]) as cloud:
        print(f"cloud service ready in {cloud.startup_seconds:.0f} s", flush=True)
        yield cloud


@contextlib.asynccontextmanager
async def edge_agent_for_benchmark(cloud_address: str, threads: int = 2, **edge: object) -> AsyncIterator[EdgeAgent]:
    """An edge agent on a throw-away data dir, answer cache off unless asked for."""
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as data_dir:
        overrides = {"cloud_address": cloud_address, "threads": threads, "cache_enabled": False, **edge}
        async with EdgeAgent(load_config(overrides={"data_dir": data_dir, "edge": overrides})) as agent:
            yield agent
