"""Concurrency cap, deadlines and client cancellation: nothing is left running inside the engine."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from shared.rpc import inference_pb2 as pb
from tests.settings import AUTH, MAX_CONCURRENT


def long_request(i: int) -> pb.GenerateRequest:
    return pb.GenerateRequest(
        request_id=f"long-{i}", prompt="Write a long story about a dragon.", sampling=pb.SamplingParams(max_tokens=250)
    )


async def wait_until_idle(stub, timeout_s: float = 15.0) -> pb.ServerStatus:
    """The engine must report no unfinished request shortly after an abort."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        status = await stub.GetServerStatus(pb.ServerStatusRequest(), metadata=AUTH)
        if status.engine_requests == 0 and status.admitted_requests == 0:
            return status
        if loop.time() > deadline:
            pytest.fail(f"engine still busy after abort: {status}")
        await asyncio.sleep(0.1)


async def test_cap_rejects_extra_streams_with_resource_exhausted(stub):
    calls = [stub.Generate(long_request(i), metadata=AUTH, timeout=120) for i in range(MAX_CONCURRENT)]
    try:
        for call in calls:  # each has been admitted once it has produced a message
            await call.read()
        status = await stub.GetServerStatus(pb.ServerStatusRequest(), metadata=AUTH)
        assert status.admitted_requests == MAX_CONCURRENT
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in stub.Generate(long_request(99), metadata=AUTH, timeout=30):
                pass
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert f"cap of {MAX_CONCURRENT}" in err.value.details()
    finally:
        for call in calls:
            call.cancel()
    await wait_until_idle(stub)


async def test_deadline_aborts_request_in_engine(stub):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in stub.Generate(long_request(1), metadata=AUTH, timeout=0.5):
            pass
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await wait_until_idle(stub)


async def test_client_cancel_aborts_request_in_engine(stub):
    call = stub.Generate(long_request(2), metadata=AUTH, timeout=60)
    await call.read()
    await call.read()
    status = await stub.GetServerStatus(pb.ServerStatusRequest(), metadata=AUTH)
    assert status.engine_requests == 1
    call.cancel()
    await wait_until_idle(stub)
    # The slot is free again: a new request is served.
    replies = [
        m
        async for m in stub.Generate(
            pb.GenerateRequest(prompt="Hello", sampling=pb.SamplingParams(max_tokens=3)), metadata=AUTH, timeout=30
        )
    ]
    assert replies[-1].final.usage.completion_tokens == 3
