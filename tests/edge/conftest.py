"""Edge agents built on the real SmolLM2 model, pointed at a real cloud (or at nothing)."""

from __future__ import annotations

import pytest

from edge.agent import EdgeAgent
from shared.config import load_config
from tests.settings import API_KEY


@pytest.fixture
def make_agent(tmp_path):
    agents: list[EdgeAgent] = []

    def build(cloud_address: str, **edge) -> EdgeAgent:
        overrides = {"cloud_address": cloud_address, "cloud_api_key": API_KEY, "threads": 2, **edge}
        agent = EdgeAgent(load_config(overrides={"data_dir": tmp_path, "edge": overrides}))
        agents.append(agent)
        return agent

    yield build
    for agent in agents:
        agent.runner.close()
        if agent.cache is not None:
            agent.cache.close()


async def served_count(agent: EdgeAgent) -> int:
    return (await agent.client.server_status()).served_requests
