"""Engine replicas on a real local Ray Serve: balancing, autoscaling up and down, replica loss, cancellation.

The replicas run the llama.cpp engine (seconds to start, so a replacement or an added replica is quick to
wait for); the vLLM replica is covered in test_ray_vllm.py. The tests run in file order on one service:
scale up under load, cancel, kill a replica under load, scale back down when idle.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

import pytest

from edge.agent import EdgeAgent
from edge.core.query import Policy, Query
from edge.uplink.client import CloudClient
from shared.cli_flags import edge_config
from shared.launchers import CloudProcess
from shared.types import GenerationRequest, SamplingParams
from tests.cloud.replica_status import until
from tests.cloud.test_service_vllm import capital_prompt

pytestmark = [pytest.mark.ray, pytest.mark.model]

FLAGS = [
    "--backend", "ray", "--replica-backend", "llamacpp", "--threads", "1", "--replica-cpus", "1",
    "--min-replicas", "1", "--max-replicas", "2", "--target-ongoing-requests", "2",
    "--upscale-delay-s", "1", "--downscale-delay-s", "4", "--max-concurrent-requests", "16",
]  # fmt: skip
BOUND_S = 90.0


@pytest.fixture(scope="module")
def ray_cloud(tmp_path_factory):
    log = tmp_path_factory.mktemp("ray") / "cloud.log"
    with CloudProcess(FLAGS, log_path=log) as cloud:
        yield cloud


@pytest.fixture
async def client(ray_cloud) -> CloudClient:
    async with CloudClient(ray_cloud.address, timeout_s=120) as c:
        yield c


def _request(i: int, max_tokens: int = 12) -> GenerationRequest:
    countries = ("France", "Peru", "Kenya", "Japan", "Chile", "Spain")
    return GenerationRequest(f"ray-{i}", SamplingParams(max_tokens=max_tokens), prompt=capital_prompt(countries[i % 6]))


async def _under_load(client: CloudClient, streams: int, work: Callable[[], Awaitable[None]]) -> list:
    """Runs `work` while `streams` clients each keep one request open; returns every request's outcome."""
    done = asyncio.Event()
    outcomes: list = []

    async def keep_asking(worker: int) -> None:
        i = 0
        while not done.is_set():
            outcomes.append(await client.generate(_request(worker * 1000 + i)))
            i += 1

    workers = [asyncio.create_task(keep_asking(w)) for w in range(streams)]
    try:
        await work()
    finally:
        done.set()
        await asyncio.gather(*workers)
    return outcomes


async def test_scales_up_under_load_and_serves_from_both(client):
    info = await client.model_info()
    assert info.backend == "ray/llamacpp"
    await until(lambda s: s.healthy_replicas == 1, client, BOUND_S)  # idle: the floor, whatever ran before

    async def two_replicas() -> None:
        await until(lambda s: s.healthy_replicas == 2, client, BOUND_S)
        # Both in the balancer: each has served since the second came up.
        await until(lambda s: len(s.replicas) == 2 and all(r.served_requests for r in s.replicas), client, BOUND_S)

    outcomes = await _under_load(client, 8, two_replicas)
    assert len({r.replica for r in outcomes}) == 2, "requests landed on one replica only"
    status = await until(lambda s: all(r.served_requests for r in s.replicas), client, 10)
    assert status.served_requests >= len(outcomes)


async def test_cancelled_stream_leaves_no_unfinished_request_in_any_replica(client):
    stream = client.stream(GenerationRequest("cancel-me", SamplingParams(max_tokens=400), prompt="Once upon a time"))
    async for message in stream:
        if message.HasField("delta"):
            break
    await until(lambda s: s.engine_requests >= 1, client, 10)  # the open stream is counted ...
    stream.cancel()
    status = await until(lambda s: all(r.engine_requests == 0 for r in s.replicas), client, 15)  # ... then gone
    assert status.replicas, "no replica reported"


async def test_replica_killed_under_load_loses_no_request(client, ray_cloud, tmp_path):
    flags = {"cloud_address": ray_cloud.address, "threads": 1, "cloud_timeout_s": 60.0, "cache_enabled": False}
    async with EdgeAgent(edge_config(tmp_path, **flags)) as agent:
        done = asyncio.Event()
        results: list = []

        async def keep_asking(worker: int) -> None:
            countries = ("Peru", "Kenya", "Japan", "Chile")
            while not done.is_set():
                query = Query(question=f"What is the capital of {countries[worker % 4]}?", policy=Policy(route="cloud"))
                results.append(await agent.namespace().answer(query))

        workers = [asyncio.create_task(keep_asking(w)) for w in range(16)]  # 16 streams through the edge
        try:
            # The load scales the deployment to two replicas; the victim is killed while it serves.
            status = await until(lambda s: s.healthy_replicas == 2 and len(s.replicas) == 2, client, BOUND_S)
            victim = status.replicas[0]
            await until(
                lambda s: any(r.replica == victim.replica and r.engine_requests for r in s.replicas), client, 30
            )
            os.kill(victim.pid, signal.SIGKILL)
            replaced = await until(
                lambda s: s.healthy_replicas == 2 and victim.replica not in {r.replica for r in s.replicas},
                client,
                BOUND_S,
            )
        finally:
            done.set()
            await asyncio.gather(*workers)
    assert victim.pid not in {r.pid for r in replaced.replicas}
    assert len(results) >= 16 and all(r.answer for r in results), "a request went unanswered"
    # Those queued for the dead replica were retried on the other; one cut mid-stream is answered degraded.
    assert all(r.provenance.degraded_reason for r in results if r.degraded)
    cloud_served = [r for r in results if r.served_by == "cloud" and not r.degraded]
    assert all(r.provenance.cloud_replica for r in cloud_served)
    assert len(cloud_served) >= len(results) - 16, "more streams degraded than were open on the lost replica"


async def test_scales_back_down_when_idle(client):
    await until(lambda s: s.healthy_replicas == 1 and len(s.replicas) == 1, client, BOUND_S)
    result = await client.generate(_request(7))
    assert result.text and result.replica
