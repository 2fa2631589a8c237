"""A TCP proxy between the edge and the cloud for fault injection and capture (loopback only, its own thread).

Modes: pass (forward), delay (hold every chunk), blackhole (accept and never answer), refuse (close new
connections at once); `partition()` also cuts every open connection mid-stream, `heal()` undoes it. `sent` holds
every byte the edge sent towards the cloud: what crossed the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Literal

Mode = Literal["pass", "blackhole", "refuse"]


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode: Mode = "pass"
        self.delay_s = 0.0
        self.sent = bytearray()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._held: set[asyncio.StreamWriter] = set()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        self._cut_all()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()
        server.close()

    def partition(self) -> None:
        """The network goes away: open connections die mid-stream and new ones are refused."""
        self.mode = "refuse"
        self._loop.call_soon_threadsafe(self._cut_all)

    def heal(self) -> None:
        """Forward again; connections held by the blackhole never reached the cloud, so they are reset."""
        self.mode = "pass"
        self.delay_s = 0.0
        self._loop.call_soon_threadsafe(self._cut_held)

    def _cut_held(self) -> None:
        for writer in list(self._held):
            writer.transport.abort()

    def _cut_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: bool) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if upstream:
                    self.sent += data
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            if self.mode == "refuse":
                return
            if self.mode == "blackhole":
                self._held.add(writer)
                while await reader.read(65536):
                    pass
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._writers.add(up_writer)
            try:
                await asyncio.gather(self._pump(reader, up_writer, True), self._pump(up_reader, writer, False))
            finally:
                self._writers.discard(up_writer)
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            self._held.discard(writer)
            writer.transport.abort()
