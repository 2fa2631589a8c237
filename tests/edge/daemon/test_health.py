"""/healthz and /metrics read SQLite in a worker thread: a slow disk does not stall the daemon's other requests.

Runs the real app in process (real model, real SQLite) through httpx's ASGI transport.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from cloud.launcher import free_port
from edge.daemon.app import create_app
from shared.config import load_config


async def test_slow_sqlite_in_healthz_does_not_block_the_event_loop(tmp_path):
    config = load_config(
        overrides={"data_dir": tmp_path, "edge": {"threads": 1, "cloud_address": f"127.0.0.1:{free_port()}"}}
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        state = app.state.tandem
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://daemon") as http:
            held = threading.Event()

            def slow_disk() -> None:  # holds the cache's lock as a stalled write would
                with state.agent.store._lock:
                    held.set()
                    time.sleep(1.5)

            threading.Thread(target=slow_disk, daemon=True).start()
            held.wait()
            started = time.perf_counter()
            health = asyncio.create_task(http.get("/healthz"))
            metrics = asyncio.create_task(http.get("/metrics"))
            await asyncio.sleep(0.05)
            models = await http.get("/v1/models")
            models_s = time.perf_counter() - started
            assert models.status_code == 200 and models_s < 0.7, f"/v1/models waited {models_s:.2f} s"
            assert not health.done() and not metrics.done(), "both are still waiting on SQLite"
            assert (await health).json()["cache"]["entries"] == 0
            assert b"tandem_cache_entries" in (await metrics).content
