"""Bounded load: 16 concurrent clients x 20 requests mixing cache hits, local answers and escalations."""

from __future__ import annotations

import asyncio

import httpx

CLIENTS, REQUESTS = 16, 20
COUNTRIES = ["Peru", "Chile", "Kenya", "Ghana", "Nepal", "Laos", "Chad", "Mali", "Oman", "Fiji", "Cuba", "Iraq"]


def body(client: int, i: int) -> dict:
    kind = i % 3
    if kind == 0:  # local: a question the edge is sure of
        return {
            "model": "tandem",
            "messages": [{"role": "user", "content": "What is the capital of France?"}],
            "tandem": {"route": "edge"},
        }
    country = COUNTRIES[(client + i) % len(COUNTRIES)]
    # escalations: the first ask of each country goes to the cloud, later asks hit the cache
    return {
        "model": "tandem",
        "messages": [{"role": "user", "content": f"What is the capital of {country}?"}],
        "tandem": {"threshold": 1.0},
    }


async def test_concurrent_clients_all_answered(daemon):
    async with httpx.AsyncClient(base_url=daemon.base_url, timeout=120) as http:

        async def client(c: int) -> list[tuple[int, dict]]:
            results = []
            for i in range(REQUESTS):
                reply = await http.post("/v1/chat/completions", json=body(c, i))
                results.append((reply.status_code, reply.json()))
            return results

        everything = [r for rs in await asyncio.gather(*(client(c) for c in range(CLIENTS))) for r in rs]
    assert len(everything) == CLIENTS * REQUESTS
    statuses = [s for s, _ in everything]
    assert not [s for s in statuses if s >= 500], "no 5xx"
    assert statuses.count(200) == len(everything), f"every request answered: {set(statuses)}"
    served = [r["tandem"]["served_by"] for _, r in everything]
    assert {"edge", "cloud", "cache"} <= set(served)
    assert all(r["choices"][0]["message"]["content"] for _, r in everything)
