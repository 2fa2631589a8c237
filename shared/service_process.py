"""Run a Tandem service as a child process: start, wait until ready, stop gracefully (demo, tests, benches)."""

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


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServiceProcess:
    """`python -m <module> ... --host H --port P <flags>`, ready once it prints a line starting with `ready_prefix`."""

    module: str = ""
    args_before_flags: tuple[str, ...] = ()
    ready_prefix: str = ""
    startup_timeout_s: float = 420.0  # a vLLM engine on 2 cores takes minutes; subclasses that start faster say so

    def __init__(
        self,
        flags: list[str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.flags = list(flags or [])
        self.env = {**os.environ, **(env or {})}
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None
        self.startup_seconds = 0.0
        self.log_tail: deque[str] = deque(maxlen=200)
        self._ready = threading.Event()

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"{self.module} is not started")
        return self.proc.pid

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _pump(self) -> None:
        """Keeps the child's output drained (a full pipe would block it) and spots the ready line."""
        assert self.proc is not None and self.proc.stdout is not None
        sink = self.log_path.open("a") if self.log_path else None
        for line in self.proc.stdout:
            self.log_tail.append(line)
            if sink:
                sink.write(line)
                sink.flush()
            if line.startswith(self.ready_prefix):
                self._ready.set()
        if sink:
            sink.close()

    def check_ready(self) -> None:
        """Subclasses confirm readiness through the service's own health endpoint."""

    def start(self) -> ServiceProcess:
        cmd = [
            sys.executable,
            "-m",
            self.module,
            *self.args_before_flags,
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self.flags,
        ]
        started = time.perf_counter()
        self._ready.clear()
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env, start_new_session=True
        )
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = started + self.startup_timeout_s
        while not self._ready.wait(0.2):
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                self.stop()
                tail = "".join(list(self.log_tail)[-40:])
                raise RuntimeError(f"{self.module} did not become ready (exit={self.proc.returncode}):\n{tail}")
        self.check_ready()
        self.startup_seconds = time.perf_counter() - started
        return self

    def terminate(self) -> None:
        """Sends SIGTERM (graceful drain) without waiting."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL for the whole process group: a crash, nothing gets to clean up."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time; no child of it outlives it."""
        if self.proc is None:
            return None
        self.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
