"""Edge agents built on the real SmolLM2 model, pointed at a real cloud (or at nothing)."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from edge.agent import EdgeAgent
from shared.cli_flags import edge_config
from tests.settings import API_KEY


@pytest.fixture
async def make_agent(tmp_path):
    agents: list[EdgeAgent] = []

    def build(cloud_address: str, **flags) -> EdgeAgent:
        """[edge] settings by their flag names: threshold=..., cache_enabled=..."""
        flags = {"cloud_address": cloud_address, "cloud_api_key": API_KEY, "threads": 2, **flags}
        agent = EdgeAgent(edge_config(tmp_path, **flags))
        agents.append(agent)
        return agent

    yield build
    for agent in agents:
        await agent.close()


async def served_count(agent: EdgeAgent) -> int:
    return (await agent.cloud_status()).served_requests


def run_edge_cli(
    data_dir, command: str, cloud_address: str, *args: str, stdin: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`tandem-edge --data-dir D <command> ... --cloud-address A` as a real child process (bytes output)."""
    cmd = [
        sys.executable,
        "-m",
        "edge.cli",
        "--data-dir",
        str(data_dir),
        command,
        *args,
        "--cloud-address",
        cloud_address,
        "--cloud-api-key",
        API_KEY,
        "--threads",
        "2",
    ]
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)


def ask_daemon(base_url: str, question: str, tandem: dict | None = None, **extra) -> dict:
    """One chat completion through a running daemon; the whole JSON reply."""
    body = {"model": "tandem", "messages": [{"role": "user", "content": question}], "tandem": tandem or {}, **extra}
    reply = httpx.post(f"{base_url}/v1/chat/completions", timeout=60, json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()
