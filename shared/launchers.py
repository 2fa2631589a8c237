"""Start `tandem-cloud serve` or `tandem-edge serve` as a child process and wait until it is ready.

For the demo, tests and benchmarks. Both go through the CLIs and the services' own health endpoints (gRPC
health, /healthz), so nothing here imports either side.
"""

from __future__ import annotations

import json
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from shared.client_tls import ClientTls
from shared.service_process import ServiceProcess, free_port

__all__ = ["CLOUD_READY_PREFIX", "EDGE_READY_PREFIX", "CloudProcess", "DaemonProcess", "free_port"]

CLOUD_READY_PREFIX = "TANDEM_CLOUD_READY"
EDGE_READY_PREFIX = "TANDEM_EDGE_READY"


class CloudProcess(ServiceProcess):
    """`with CloudProcess(["--backend", "vllm"]) as cloud: cloud.address`."""

    module = "cloud.cli"
    args_before_flags = ("serve",)
    ready_prefix = CLOUD_READY_PREFIX

    def __init__(self, flags: list[str] | None = None, *, tls: ClientTls | None = None, **kwargs) -> None:
        super().__init__(flags, **kwargs)
        self.tls = tls  # how to reach a TLS-only service (its health checks included)

    def check_ready(self) -> None:
        if self.health() != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError("cloud service printed its ready line but health is not SERVING")

    def _channel(self) -> grpc.Channel:
        if self.tls is None:
            return grpc.insecure_channel(self.address)
        return grpc.secure_channel(self.address, self.tls.credentials())

    def health(self, service: str = "") -> int:
        with self._channel() as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


class DaemonProcess(ServiceProcess):
    """`with DaemonProcess(["--cloud-address", addr], data_dir=d) as edge: edge.base_url`."""

    module = "edge.cli"
    ready_prefix = EDGE_READY_PREFIX
    startup_timeout_s = 180.0

    def __init__(self, flags: list[str] | None = None, data_dir: str | None = None, **kw) -> None:
        super().__init__(flags, **kw)
        # --data-dir belongs to the top-level parser, before the subcommand.
        self.args_before_flags = (*(("--data-dir", str(data_dir)) if data_dir else ()), "serve")

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    def check_ready(self) -> None:
        self.healthz()

    def healthz(self) -> dict:
        with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=10) as reply:
            return json.loads(reply.read())
