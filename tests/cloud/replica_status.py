"""Polling the service's status until replicas reach a state, within a bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from edge.uplink.client import CloudClient
from shared.rpc import inference_pb2 as pb


async def until(check: Callable[[pb.ServerStatus], bool], client: CloudClient, within_s: float) -> pb.ServerStatus:
    deadline = time.monotonic() + within_s
    while True:
        status = await client.server_status()
        if check(status):
            return status
        assert time.monotonic() < deadline, f"not reached within {within_s} s; last status: {status}"
        await asyncio.sleep(0.5)
