"""Runs the daemon under uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from edge.daemon.app import create_app
from shared.config import TandemConfig
from shared.errors import InvalidConfig
from shared.launchers import EDGE_READY_PREFIX
from shared.network import is_loopback

log = logging.getLogger(__name__)

# Printed on stdout once serving, so launchers learn the bound port (useful with port 0).


async def serve(config: TandemConfig) -> None:
    daemon = config.daemon
    if not is_loopback(daemon.host) and not daemon.api_keys:
        if not daemon.insecure:
            raise InvalidConfig(
                f"refusing to serve {daemon.host}, which other machines can reach, without app tokens: set "
                "[daemon] api_keys (token -> namespace), or --insecure to let anyone on the network in"
            )
        log.warning("serving a non-loopback address without app tokens (--insecure)", extra={"host": daemon.host})
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
        print(f"{EDGE_READY_PREFIX} port={port}", flush=True)

    announcer = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        announcer.cancel()
