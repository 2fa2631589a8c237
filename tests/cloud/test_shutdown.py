"""SIGTERM drains: health flips to NOT_SERVING, new requests are refused, in-flight streams finish, engine stops."""

from __future__ import annotations

import asyncio
import os
import time

import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from shared.launchers import CloudProcess
from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc

pytestmark = pytest.mark.vllm

STREAM_TOKENS = 200


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process left in the server's process group?"""
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return False


async def test_sigterm_drains_in_flight_stream_then_exits(tmp_path):
    cloud = CloudProcess(["--backend", "vllm", "--grace-period-s", "60"], log_path=tmp_path / "cloud.log").start()
    try:
        async with grpc.aio.insecure_channel(cloud.address) as channel:
            stub = inference_pb2_grpc.InferenceServiceStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            call = stub.Generate(
                pb.GenerateRequest(
                    prompt="Write a long story about a dragon.", sampling=pb.SamplingParams(max_tokens=STREAM_TOKENS)
                ),
                timeout=120,
            )
            messages = [await call.read()]
            cloud.terminate()

            status = None
            for _ in range(100):  # health answers NOT_SERVING while the stream drains
                status = (await health.Check(health_pb2.HealthCheckRequest(), timeout=5)).status
                if status == health_pb2.HealthCheckResponse.NOT_SERVING:
                    break
                await asyncio.sleep(0.05)
            assert status == health_pb2.HealthCheckResponse.NOT_SERVING

            with pytest.raises(grpc.aio.AioRpcError) as err:
                async for _ in stub.Generate(
                    pb.GenerateRequest(prompt="hi", sampling=pb.SamplingParams(max_tokens=2)), timeout=10
                ):
                    pass
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE

            while (message := await call.read()) != grpc.aio.EOF:
                messages.append(message)
        final = messages[-1]
        assert final.HasField("final"), "the in-flight stream completed instead of being cut"
        assert final.final.usage.completion_tokens == STREAM_TOKENS
        assert final.final.finish_reason == pb.FINISH_REASON_LENGTH

        assert cloud.proc.wait(60) == 0
        deadline = time.monotonic() + 20
        while _group_alive(cloud.proc.pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert not _group_alive(cloud.proc.pid), "engine processes outlived the server"
        log = (tmp_path / "cloud.log").read_text()
        assert '"msg": "shutting down"' in log and '"msg": "stopped"' in log
    finally:
        cloud.stop()
