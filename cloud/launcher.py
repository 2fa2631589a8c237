"""Start `tandem-cloud serve` as a child process and wait until it is SERVING (demo, tests, benchmarks)."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cloud.server import READY_LINE_PREFIX
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

    def health(self, service: str = "") -> int:
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
