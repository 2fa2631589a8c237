"""Work that stops when the HTTP client goes away: a disconnect cancels the local generation and the cloud RPC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import TypeVar

from fastapi import Request

T = TypeVar("T")


class ClientGone(Exception):
    """The client disconnected before the answer was ready."""


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def until_disconnect(request: Request, work: Awaitable[T]) -> T:
    """Runs `work` and cancels it if the client disconnects first (raises ClientGone then)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        raise ClientGone
    finally:
        for t in (task, watcher):
            t.cancel()
        await asyncio.gather(task, watcher, return_exceptions=True)


async def stream_until_disconnect(request: Request, source: AsyncGenerator[str, None]) -> AsyncIterator[str]:
    """Relays `source`, produced in its own task, and cancels that task when the client disconnects.

    The watcher does not rely on the server noticing the disconnect at the next write: a cloud that takes a
    while to send its next token must not keep running for a client that is gone.
    """
    queue: asyncio.Queue = asyncio.Queue()  # an answer is bounded by max_tokens
    end = object()

    async def pump() -> None:
        try:
            async for item in source:
                await queue.put(item)
        except Exception as exc:  # handed to the response, which fails the stream
            await queue.put(exc)
        finally:
            queue.put_nowait(end)

    producer = asyncio.ensure_future(pump())
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                return
            item = getter.result()
            if item is end:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        for t in (producer, watcher):
            t.cancel()
        await asyncio.gather(producer, watcher, return_exceptions=True)
        await source.aclose()
