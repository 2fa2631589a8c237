"""Start `tandem-cloud serve` as a child process and wait until it is SERVING (demo, tests, benchmarks)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cloud.server import READY_LINE_PREFIX


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class CloudProcess:
    """Context manager: `with CloudProcess(["--backend", "vllm"]) as cloud: cloud.address`."""

    def __init__(
        self,
        flags: list[str] | None = None,
        host: str = "127.0.0.1",
        env: dict[str, str] | None = None,
        startup_timeout_s: float = 420.0,
        log_path: Path | None = None,
    ) -> None:
        self.host = host
        self.port = free_port(host)
        self.flags = list(flags or [])
        self.env = {**os.environ, **(env or {})}
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None
        self.startup_seconds = 0.0
        self.log_tail: deque[str] = deque(maxlen=200)
        self._ready = threading.Event()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _pump(self) -> None:
        """Keeps the child's combined output drained (a full pipe would block it) and spots the ready line."""
        assert self.proc is not None and self.proc.stdout is not None
        sink = self.log_path.open("a") if self.log_path else None
        for line in self.proc.stdout:
            self.log_tail.append(line)
            if sink:
                sink.write(line)
                sink.flush()
            if line.startswith(READY_LINE_PREFIX):
                self._ready.set()
        if sink:
            sink.close()

    def start(self) -> CloudProcess:
        cmd = [sys.executable, "-m", "cloud.cli", "serve", "--host", self.host, "--port", str(self.port), *self.flags]
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env, start_new_session=True
        )
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = started + self.startup_timeout_s
        while not self._ready.wait(0.5):
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                self.stop()
                tail = "".join(list(self.log_tail)[-40:])
                raise RuntimeError(f"cloud service did not become ready (exit={self.proc.returncode}):\n{tail}")
        if self.health() != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError("cloud service printed its ready line but health is not SERVING")
        self.startup_seconds = time.perf_counter() - started
        return self

    def health(self, service: str = "") -> int:
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status

    def terminate(self) -> None:
        """Sends SIGTERM (graceful drain) without waiting."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM, then SIGKILL for the whole process group if it does not exit in time."""
        if self.proc is None:
            return None
        self.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        # Engine workers live in the child's process group; none may outlive it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode

    def __enter__(self) -> CloudProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
