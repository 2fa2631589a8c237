"""One edge, several cloud endpoints: balanced round robin, a dead one skipped, degraded only when all are down."""

from __future__ import annotations

import asyncio

import pytest

from edge.uplink.breaker import CircuitBreaker
from edge.uplink.client import CloudClient
from edge.uplink.uplink import CloudUplink
from shared.launchers import CloudProcess
from shared.network import channel_target
from shared.types import GenerationRequest, SamplingParams

pytestmark = pytest.mark.model


def _request(i: int) -> GenerationRequest:
    return GenerationRequest(f"ep-{i}", SamplingParams(max_tokens=2), prompt=f"Say {i}.")


async def _served(cloud: CloudProcess) -> int:
    async with CloudClient(cloud.address, timeout_s=60) as client:
        return (await client.server_status()).served_requests


def test_address_lists_become_one_balanced_target():
    assert channel_target("127.0.0.1:1") == "127.0.0.1:1"
    assert channel_target("127.0.0.1:1, 127.0.0.2:2") == "ipv4:127.0.0.1:1,127.0.0.2:2"
    assert channel_target("[::1]:1,[::1]:2") == "ipv6:[::1]:1,[::1]:2"
    for bad in ("cloud-a:1,cloud-b:2", "127.0.0.1,127.0.0.2:1", "127.0.0.1:1,[::1]:2"):
        with pytest.raises(ValueError):
            channel_target(bad)


async def test_requests_spread_over_endpoints_and_skip_a_dead_one(tmp_path):
    flags = ["--backend", "llamacpp", "--threads", "1"]
    with CloudProcess(flags, log_path=tmp_path / "a.log") as a, CloudProcess(flags, log_path=tmp_path / "b.log") as b:
        async with CloudClient(f"{a.address},{b.address}", timeout_s=30) as client:
            uplink = CloudUplink(client, CircuitBreaker(3))
            results = [await uplink.ask(_request(i)) for i in range(8)]
            assert all(r.result is not None for r in results)
            served = [await _served(a), await _served(b)]
            assert min(served) >= 2, f"both endpoints serve: {served}"

            b.kill()
            results = [await uplink.ask(_request(i)) for i in range(6)]
            assert all(r.result is not None for r in results), [r.failure for r in results]
            a.kill()
            await asyncio.sleep(0.2)
            down = await uplink.ask(_request(99))
            assert down.result is None and down.failure == "cloud_unreachable"
