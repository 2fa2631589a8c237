"""The cloud service's lifecycle: start the engine, serve gRPC, drain gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from cloud.auth import ApiKeyInterceptor
from cloud.backends import GenerationBackend, create_backend
from cloud.servicer import InferenceServicer
from shared.config import TandemConfig
from shared.rpc import inference_pb2, inference_pb2_grpc
from shared.types import GenerationRequest, SamplingParams

log = logging.getLogger(__name__)

SERVICE_NAME = inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name
# Printed on stdout once serving, so launchers learn the bound port (useful with port 0).
READY_LINE_PREFIX = "TANDEM_CLOUD_READY"
GRPC_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    # Edges keep idle channels alive with pings every 30 s; refusing them makes the server send GOAWAY
    # "too_many_pings" and the edge reconnect.
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
]


async def _warm_up(backend: GenerationBackend) -> None:
    """One tiny generation before reporting SERVING: the first request otherwise pays seconds of lazy setup."""
    request = GenerationRequest("warmup", SamplingParams(max_tokens=2), prompt="Hello", top_logprobs=1)
    async for _ in backend.generate(request):
        pass


async def _watch_engine(backend: GenerationBackend, health: HealthServicer, every_s: float = 5.0) -> None:
    """A dead engine turns health NOT_SERVING, so load balancers stop sending traffic here."""
    serving = True
    while True:
        await asyncio.sleep(every_s)
        healthy = await backend.check_health()
        if healthy != serving:
            serving = healthy
            status = health_pb2.HealthCheckResponse.SERVING if healthy else health_pb2.HealthCheckResponse.NOT_SERVING
            for name in ("", SERVICE_NAME):
                await health.set(name, status)
            log.warning("engine health changed", extra={"healthy": healthy})


async def serve(config: TandemConfig, stop: asyncio.Event | None = None) -> None:
    """Runs until SIGTERM/SIGINT (or `stop` is set), then drains and shuts the engine down."""
    cloud = config.cloud
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    started = time.perf_counter()
    backend = create_backend(cloud, config.data_dir)
    engine = await backend.start()
    await _warm_up(backend)
    log.info(
        "engine ready",
        extra={"model": engine.model_id, "backend": engine.backend, "seconds": round(time.perf_counter() - started, 1)},
    )

    interceptors = [ApiKeyInterceptor(cloud.api_keys)] if cloud.api_keys else []
    server = grpc.aio.server(interceptors=interceptors, options=GRPC_OPTIONS)
    servicer = InferenceServicer(backend, engine, cloud)
    inference_pb2_grpc.add_InferenceServiceServicer_to_server(servicer, server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(f"{cloud.host}:{cloud.port}")
    if port == 0:
        raise OSError(f"could not bind {cloud.host}:{cloud.port}")
    await server.start()
    for name in ("", SERVICE_NAME):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "serving", extra={"address": f"{cloud.host}:{port}", "startup_seconds": round(time.perf_counter() - started, 1)}
    )
    print(f"{READY_LINE_PREFIX} port={port} model={engine.model_id}", flush=True)

    watchdog = asyncio.create_task(_watch_engine(backend, health))
    try:
        await stop.wait()
    finally:
        watchdog.cancel()
        log.info("shutting down", extra={"grace_s": cloud.grace_period_s, "in_flight": servicer.limiter.active})
        servicer.draining = True
        await health.enter_graceful_shutdown()
        # Keep accepting health checks while in-flight streams finish, so probes see NOT_SERVING.
        deadline = loop.time() + cloud.grace_period_s
        while servicer.limiter.active and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await server.stop(max(0.0, deadline - loop.time()))
        await backend.shutdown()
        log.info("stopped")
