"""Runs the daemon under uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from edge.daemon.app import create_app
from shared.config import TandemConfig

# Printed on stdout once serving, so launchers learn the bound port (useful with port 0).
READY_LINE_PREFIX = "TANDEM_EDGE_READY"


async def serve(config: TandemConfig) -> None:
    daemon = config.daemon
    sock = socket.socket(socket.AF_INET6 if ":" in daemon.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((daemon.host, daemon.port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_config=None, access_log=False, timeout_graceful_shutdown=10)
    )

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        print(f"{READY_LINE_PREFIX} port={port}", flush=True)

    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
