"""/healthz and /metrics read SQLite in a worker thread: a slow disk does not stall the daemon's other requests.

Runs the real app in process (real model, real SQLite) through httpx's ASGI transport.
"""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from edge.daemon.app import create_app
from shared.cli_flags import edge_config
from shared.launchers import free_port

pytestmark = pytest.mark.model


async def test_slow_sqlite_in_healthz_does_not_block_the_event_loop(tmp_path, monkeypatch):
    config = edge_config(tmp_path, threads=1, cloud_address=f"127.0.0.1:{free_port()}")
    app = create_app(config)
    async with app.router.lifespan_context(app):
        state = app.state.tandem
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://daemon") as http:
            held, release = threading.Event(), threading.Event()
            namespace = state.spaces[""].namespace
            read = namespace.status

            def slow_disk():  # the namespace's SQLite reads stall, as on a slow disk, until released
                held.set()
                release.wait(10)
                return read()

            monkeypatch.setattr(namespace, "status", slow_disk)
            health = asyncio.create_task(http.get("/healthz"))
            metrics = asyncio.create_task(http.get("/metrics"))
            await asyncio.to_thread(held.wait, 10)
            # Served while the read stalls: had /healthz read SQLite on the event loop, nothing would be served
            # until the release (10 s), and by then both would be done.
            models = await http.get("/v1/models")
            assert models.status_code == 200
            assert not health.done() and not metrics.done(), "both are still waiting on SQLite"
            release.set()
            assert (await health).json()["cache"]["entries"] == 0
            assert b"tandem_cache_entries" in (await metrics).content
