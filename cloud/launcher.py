"""Start `tandem-cloud serve` as a child process and wait until it is SERVING (demo, tests, benchmarks)."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cloud.server import READY_LINE_PREFIX
from edge.uplink.client import ClientTls, CloudClient
from shared.service_process import ServiceProcess, free_port

__all__ = ["CloudProcess", "free_port"]


class CloudProcess(ServiceProcess):
    """`with CloudProcess(["--backend", "vllm"]) as cloud: cloud.address`."""

    module = "cloud.cli"
    args_before_flags = ("serve",)
    ready_prefix = READY_LINE_PREFIX

    def check_ready(self) -> None:
        if self.health() != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError("cloud service printed its ready line but health is not SERVING")

    def __init__(self, flags: list[str] | None = None, *, tls: ClientTls | None = None, **kwargs) -> None:
        super().__init__(flags, **kwargs)
        self.tls = tls  # how to reach a TLS-only service (its health checks included)

    def client(self, api_key: str = "", timeout_s: float = 60.0) -> CloudClient:
        return CloudClient(self.address, api_key, timeout_s, self.tls)

    def _channel(self) -> grpc.Channel:
        if self.tls is None:
            return grpc.insecure_channel(self.address)
        return grpc.secure_channel(self.address, self.tls.credentials())

    def health(self, service: str = "") -> int:
        with self._channel() as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
