"""Runs the daemon under uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio

import uvicorn

from edge.daemon.app import create_app
from shared.config import TandemConfig

# Printed on stdout once serving, so launchers learn the bound port (useful with port 0).
READY_LINE_PREFIX = "TANDEM_EDGE_READY"


async def serve(config: TandemConfig) -> None:
    daemon = config.daemon
    # uvicorn binds the socket itself: asyncio then sets TCP_NODELAY on accepted connections, which a
    # hand-made socket (proto 0) would miss, costing keep-alive clients a 40 ms delayed-ACK stall per request.
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=daemon.host,
            port=daemon.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    )

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        print(f"{READY_LINE_PREFIX} port={port}", flush=True)

    announcer = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        announcer.cancel()
