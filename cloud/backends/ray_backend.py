"""Engine replicas on Ray Serve behind Tandem's own front door.

The gRPC servicer (TLS, auth, validation, admission, health) stays in this process; generation goes through
a streaming Serve deployment handle to replicas that Ray places, health-checks, replaces, balances and
autoscales. A replica lost before a stream's first chunk is retried on another; one lost mid-stream ends the
stream with UNAVAILABLE (a started stream is never replayed: the client already has part of it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from cloud.backends.base import EngineDescription
from shared.config import CloudConfig
from shared.errors import BackendFailure, EngineUnavailable, TandemError
from shared.types import BackendStats, GenerationChunk, GenerationRequest, ReplicaStats

log = logging.getLogger(__name__)

APP_NAME = "tandem"
BOARD_NAMESPACE = "tandem"
# Attempts on other replicas when one dies before the stream's first chunk.
RETRIES_BEFORE_FIRST_CHUNK = 3
REFRESH_EVERY_S = 1.0
SERVE_ENV = {"RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0", "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "0"}


class RayBackend:
    def __init__(self, config: CloudConfig, data_dir: Path) -> None:
        self._config = config
        self._data_dir = data_dir
        self._handle: Any = None  # Ray Serve's handle and the board actor, untyped here (mypy skips ray)
        self._board: Any = None
        self._started_ray = False
        self._replicas: tuple[ReplicaStats, ...] = ()
        self._refresher: asyncio.Task | None = None

    async def start(self) -> EngineDescription:
        await asyncio.to_thread(self._deploy)
        described = await self._handle.describe.remote()
        await self._refresh()
        self._refresher = asyncio.create_task(self._refresh_forever())
        return dataclasses.replace(described, backend=f"ray/{described.backend}")

    def _deploy(self) -> None:
        """Starts (or joins) Ray and Serve, then deploys the replicas; returns once they are up."""
        # Serve's defaults hop threads per streamed item (user code and the handle's router each on their own
        # loop); one token per item makes those hops the dispatch cost. Read by Ray at import, and inherited
        # by a local Ray's workers; joined clusters get them through the replicas' runtime_env.
        for name, value in SERVE_ENV.items():
            os.environ.setdefault(name, value)
        import ray
        from ray import serve

        from cloud.backends.ray_replica import HEALTH_CHECK_PERIOD_S, EngineReplica, ReplicaBoard

        cfg = self._config
        if not ray.is_initialized():
            if not cfg.ray.ray_address:
                # Ray renices its workers (15) to keep its own daemons responsive; here the workers ARE the
                # engines, and on a small host everything else (front door, clients) would starve them.
                os.environ.setdefault("RAY_worker_niceness", "0")
            local = {} if cfg.ray.ray_address else {"num_cpus": self._local_cpus(), "include_dashboard": False}
            address = cfg.ray.ray_address or None
            ray.init(address=address, namespace=BOARD_NAMESPACE, logging_level=logging.WARNING, **local)
            self._started_ray = True
        board_name = f"tandem-board-{uuid.uuid4().hex[:8]}"
        self._board = ReplicaBoard.options(name=board_name, namespace=BOARD_NAMESPACE).remote()  # type: ignore[attr-defined]
        serve.start(proxy_location="Disabled", logging_config={"log_level": "WARNING"})
        options: dict = {
            "name": "engine",
            # The engine batches: let Serve hand each replica as many streams as the engine schedules at once.
            "max_ongoing_requests": cfg.limits.max_concurrent_requests,
            "health_check_period_s": HEALTH_CHECK_PERIOD_S,
            "health_check_timeout_s": 60,
            "graceful_shutdown_timeout_s": cfg.grace_period_s,
            "ray_actor_options": {
                "num_cpus": cfg.ray.replica_cpus,
                "num_gpus": cfg.ray.replica_gpus,
                "runtime_env": {"env_vars": {k: os.environ[k] for k in SERVE_ENV}},
            },
        }
        if cfg.ray.autoscaling:
            options["autoscaling_config"] = {
                "min_replicas": max(cfg.ray.min_replicas, 1),
                "max_replicas": cfg.ray.max_replicas,
                "target_ongoing_requests": cfg.ray.target_ongoing_requests,
                "upscale_delay_s": cfg.ray.upscale_delay_s,
                "downscale_delay_s": cfg.ray.downscale_delay_s,
                "metrics_interval_s": 1.0,
                "look_back_period_s": 2.0,
            }
        else:
            options["num_replicas"] = cfg.ray.replicas
        app = serve.deployment(EngineReplica).options(**options)
        bound = app.bind(cfg.model_dump(), str(self._data_dir), board_name, BOARD_NAMESPACE)
        log.info("deploying engine replicas on Ray Serve", extra={"replicas": cfg.ray.replica_ceiling})
        # Serve's per-call access log would repeat every request the servicer already logs.
        quiet = {"enable_access_log": False, "log_level": "WARNING"}
        self._handle = serve.run(bound, name=APP_NAME, route_prefix=None, logging_config=quiet)

    def _local_cpus(self) -> int:
        """A local Ray gets enough logical CPUs for the replica ceiling (real cores are shared, as with threads)."""
        need = self._config.ray.replica_cpus * self._config.ray.replica_ceiling
        return max(os.cpu_count() or 1, math.ceil(need))

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationChunk, None]:
        from ray.exceptions import RayActorError, RayTaskError

        if self._handle is None:
            raise BackendFailure("engine replicas not started")
        for attempt in range(RETRIES_BEFORE_FIRST_CHUNK + 1):
            stream = self._handle.options(stream=True).generate.remote(request)
            started = False
            try:
                async for chunk in stream:
                    started = True
                    yield chunk
                return
            except RayTaskError as exc:
                if isinstance(exc.cause, TandemError):
                    raise exc.cause from None
                raise BackendFailure(f"engine replica failed: {exc.cause!r}") from None
            except RayActorError as exc:
                if started or attempt == RETRIES_BEFORE_FIRST_CHUNK:
                    raise EngineUnavailable("the engine replica serving this stream was lost; retry") from exc
                log.warning("replica lost before the first chunk; retrying on another", extra={"attempt": attempt})
            finally:
                # Reached on completion, error and the caller's cancellation alike: the replica aborts the request.
                stream.cancel()

    async def _refresh(self) -> None:
        rows = await self._board.snapshot.remote()
        self._replicas = tuple(ReplicaStats(**r) for r in sorted(rows, key=lambda r: r["replica"]))

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY_S)
            try:
                await self._refresh()
            except Exception:  # Ray hiccups must not kill the status loop; the next refresh retries
                log.exception("could not read the replica board")

    async def check_health(self) -> bool:
        return any(r.healthy for r in self._replicas)

    def stats(self) -> BackendStats:
        return BackendStats(
            unfinished_requests=sum(r.engine_requests for r in self._replicas),
            healthy_replicas=sum(r.healthy for r in self._replicas),
            replicas=self._replicas,
        )

    async def shutdown(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        if self._handle is not None:
            await asyncio.to_thread(self._teardown)
            self._handle = None

    def _teardown(self) -> None:
        import ray
        from ray import serve

        with contextlib.suppress(Exception):  # best effort: the process is exiting either way
            if self._started_ray:
                serve.shutdown()
                ray.shutdown()
            else:
                serve.delete(APP_NAME)
