"""What runs inside Ray: engine replicas (a Serve deployment) and the board they report their state to.

Ray Serve places, health-checks, replaces, balances and autoscales the replicas; each owns one engine
(vLLM's AsyncLLM, or llama.cpp) built by the same `create_engine` the in-process service uses.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncGenerator
from dataclasses import replace
from pathlib import Path

import ray
from ray import serve

from cloud.backends.base import EngineDescription, warm_up
from cloud.backends.engines import create_engine
from shared.config import CloudConfig
from shared.types import GenerationChunk, GenerationRequest

# A replica that has not reported for this long is gone (killed, or its node lost).
STALE_AFTER_S = 8.0
HEALTH_CHECK_PERIOD_S = 2.0


@ray.remote(num_cpus=0)
class ReplicaBoard:
    """Each replica's last report, so the front door can show per-replica load without asking each one."""

    def __init__(self) -> None:
        self._rows: dict[str, dict] = {}

    def report(self, row: dict) -> None:
        self._rows[row["replica"]] = {**row, "seen": time.monotonic()}

    def snapshot(self) -> list[dict]:
        now = time.monotonic()
        self._rows = {k: r for k, r in self._rows.items() if now - r["seen"] < STALE_AFTER_S}
        return [{k: v for k, v in r.items() if k != "seen"} for r in self._rows.values()]


class EngineReplica:
    """One engine; `generate` streams its chunks, the last one stamped with this replica's id."""

    # Ray Serve awaits an async __init__ (the engine starts inside it); plain Python types forbid one.
    async def __init__(self, config: dict, data_dir: str, board_name: str, board_namespace: str) -> None:  # type: ignore[misc]
        engine = {**config["engine"], "backend": config["ray"]["replica_backend"]}
        engine_config = CloudConfig.model_validate({**config, "engine": engine})
        self._backend = create_engine(engine_config, Path(data_dir))
        self._engine = await self._backend.start()
        await warm_up(self._backend)
        context = serve.get_replica_context()
        self._id = context.replica_id.unique_id
        self._node = ray.get_runtime_context().get_node_id()[:12]
        self._board = ray.get_actor(board_name, namespace=board_namespace)
        self._served = 0
        self._healthy = True
        self._report()

    async def describe(self) -> EngineDescription:
        return self._engine

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationChunk, None]:
        # Cancelling the caller's stream cancels this task; the backend's generator then aborts in the engine.
        try:
            async for chunk in self._backend.generate(request):
                if chunk.finish_reason is not None:
                    self._served += 1
                    chunk = replace(chunk, replica=self._id)
                yield chunk
        finally:
            self._report()

    async def check_health(self) -> None:
        """Serve calls this every few seconds; raising makes Serve replace the replica."""
        self._healthy = await self._backend.check_health()
        self._report()
        if not self._healthy:
            raise RuntimeError(f"engine in replica {self._id} is unhealthy")

    def _report(self) -> None:
        stats = self._backend.stats()
        self._board.report.remote(
            {
                "replica": self._id,
                "healthy": self._healthy,
                "engine_requests": stats.unfinished_requests,
                "served_requests": self._served,
                "pid": os.getpid(),
                "node": self._node,
            }
        )

    async def __del__(self) -> None:
        await self._backend.shutdown()
