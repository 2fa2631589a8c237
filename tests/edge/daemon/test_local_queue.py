"""A full local queue is a 429 the app can retry, never a hang (the real model, the app in process)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from edge.daemon.app import create_app
from shared.cli_flags import edge_config
from shared.launchers import free_port

pytestmark = pytest.mark.model


# Counting runs to max_tokens (no early end of sequence), so the first request surely holds the context.
LONG = {"model": "tandem", "prompt": "Count to one thousand: 1, 2, 3, 4, 5,", "stop": ["###"], "max_tokens": 200}


def _body(question: str) -> dict:
    messages = [{"role": "user", "content": question}]
    return {"model": "tandem", "messages": messages, "max_tokens": 8, "tandem": {"route": "edge"}}


async def test_a_request_beyond_the_local_queue_gets_429_and_the_queued_one_completes(tmp_path):
    config = edge_config(tmp_path, threads=1, max_local_queue=1, cloud_address=f"127.0.0.1:{free_port()}")
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://daemon", timeout=120) as http:
            long = asyncio.create_task(http.post("/v1/completions", json={**LONG, "tandem": {"route": "edge"}}))

            async def generating() -> None:
                while (await http.get("/healthz")).json()["local_generations"] < 1:
                    assert not long.done(), f"the long generation ended before it was seen: {long.result().text}"
                    await asyncio.sleep(0.01)  # poll the daemon's own count: the first one holds the context

            await asyncio.wait_for(generating(), 60)
            refused = await http.post("/v1/chat/completions", json=_body("What is the capital of Peru?"))
            assert refused.status_code == 429
            error = refused.json()["error"]
            assert error["code"] == "local_queue_full" and error["type"] == "rate_limit_error"
            assert (await long).status_code == 200
