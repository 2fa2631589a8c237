"""Waiting on state another process changes: poll the condition itself, within a bound (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.05


async def eventually(check: Callable[[], Awaitable[T]], within_s: float, what: str) -> T:
    """The first truthy result of `check`; fails naming `what` when none comes within the bound."""
    deadline = time.monotonic() + within_s
    while True:
        if value := await check():
            return value
        assert time.monotonic() < deadline, f"{what}: not within {within_s} s"
        await asyncio.sleep(POLL_S)


def eventually_sync(check: Callable[[], T], within_s: float, what: str) -> T:
    """`eventually` for synchronous checks (HTTP to a daemon process)."""
    deadline = time.monotonic() + within_s
    while True:
        if value := check():
            return value
        assert time.monotonic() < deadline, f"{what}: not within {within_s} s"
        time.sleep(POLL_S)
