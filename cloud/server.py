"""The cloud service's lifecycle: start the engine, serve gRPC, drain gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from cloud.backends import GenerationBackend, create_backend
from cloud.backends.base import warm_up
from cloud.fleet.hub import FleetHub
from cloud.fleet.records import fleet_dir
from cloud.fleet.servicer import FleetServicer
from cloud.keys import KeyStore
from cloud.servicer import InferenceServicer
from cloud.tenancy import TenantGate, TenantInterceptor
from cloud.tls import TlsFiles
from shared.config import CloudConfig, TandemConfig
from shared.errors import InvalidConfig
from shared.launchers import CLOUD_READY_PREFIX
from shared.network import is_loopback
from shared.rpc import inference_pb2, inference_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name
FLEET_SERVICE_NAME = inference_pb2.DESCRIPTOR.services_by_name["FleetService"].full_name
# Printed on stdout once serving, so launchers learn the bound port (useful with port 0).
GRPC_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    # Edges keep idle channels alive with pings every 30 s; refusing them makes the server send GOAWAY
    # "too_many_pings" and the edge reconnect.
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
]


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


def keys_path(config: TandemConfig) -> Path:
    return Path(config.cloud.auth.keys_file) if config.cloud.auth.keys_file else config.data_dir / "cloud" / "keys.json"


def _refuse_public_plaintext(cloud: CloudConfig) -> None:
    """Plaintext only on loopback unless the operator insists (`insecure`); checked before the engine starts."""
    if cloud.tls.cert or is_loopback(cloud.host):
        return
    if not cloud.insecure:
        raise InvalidConfig(
            f"refusing to serve plaintext gRPC on {cloud.host}, which other machines can reach: give "
            "--tls-cert/--tls-key (see `tandem-cloud certs`), or --insecure to accept the risk"
        )
    log.warning("serving PLAINTEXT gRPC on a non-loopback address (--insecure)", extra={"host": cloud.host})


def _bind(server: grpc.aio.Server, cloud: CloudConfig) -> int:
    """Binds TLS when configured, plaintext otherwise (already allowed by `_refuse_public_plaintext`)."""
    address = f"{cloud.host}:{cloud.port}"
    if cloud.tls.cert:
        tls = TlsFiles(
            Path(cloud.tls.cert), Path(cloud.tls.key), Path(cloud.tls.client_ca) if cloud.tls.client_ca else None
        )
        port = server.add_secure_port(address, tls.credentials())
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"could not bind {address}")
    if cloud.loopback_port and not server.add_insecure_port(f"127.0.0.1:{cloud.loopback_port}"):
        raise OSError(f"could not bind 127.0.0.1:{cloud.loopback_port}")
    return port


async def serve(config: TandemConfig, stop: asyncio.Event | None = None) -> None:
    """Runs until SIGTERM/SIGINT (or `stop` is set), then drains and shuts the engine down."""
    cloud = config.cloud
    _refuse_public_plaintext(cloud)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    started = time.perf_counter()
    backend = create_backend(cloud, config.data_dir)
    engine = await backend.start()
    await warm_up(backend)
    log.info(
        "engine ready",
        extra={"model": engine.model_id, "backend": engine.backend, "seconds": round(time.perf_counter() - started, 1)},
    )

    gate = TenantGate(cloud, KeyStore(keys_path(config)))
    server = grpc.aio.server(interceptors=[TenantInterceptor(gate)], options=GRPC_OPTIONS)
    fleet = FleetHub(cloud.fleet, fleet_dir(config))
    servicer = InferenceServicer(backend, engine, cloud, gate, fleet)
    inference_pb2_grpc.add_InferenceServiceServicer_to_server(servicer, server)
    inference_pb2_grpc.add_FleetServiceServicer_to_server(FleetServicer(fleet), server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    reflection.enable_server_reflection(
        (SERVICE_NAME, FLEET_SERVICE_NAME, health_name, reflection.SERVICE_NAME), server
    )
    port = _bind(server, cloud)
    metrics = start_http_server(cloud.metrics_port, addr="127.0.0.1")[0] if cloud.metrics_port else None
    await server.start()
    for name in ("", SERVICE_NAME):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "serving",
        extra={
            "address": f"{cloud.host}:{port}",
            "tls": "mtls" if cloud.tls.client_ca else "tls" if cloud.tls.cert else "off",
            "auth": gate.required,
            "startup_seconds": round(time.perf_counter() - started, 1),
        },
    )
    print(f"{CLOUD_READY_PREFIX} port={port} model={engine.model_id}", flush=True)

    watchdog = asyncio.create_task(_watch_engine(backend, health))
    recording = asyncio.create_task(fleet.run())
    try:
        await stop.wait()
    finally:
        watchdog.cancel()
        recording.cancel()
        log.info("shutting down", extra={"grace_s": cloud.grace_period_s, "in_flight": servicer.limiter.active})
        servicer.draining = True
        await health.enter_graceful_shutdown()
        # Keep accepting health checks while in-flight streams finish, so probes see NOT_SERVING.
        deadline = loop.time() + cloud.grace_period_s
        while servicer.limiter.active and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await server.stop(max(0.0, deadline - loop.time()))
        await fleet.close()  # the streams have ended: every record they made is written
        if metrics is not None:
            metrics.shutdown()
        await backend.shutdown()
        log.info("stopped")
