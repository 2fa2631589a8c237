"""A real daemon process (real SmolLM2) in front of the session's real vLLM cloud."""

from __future__ import annotations

import openai
import pytest

from shared.launchers import DaemonProcess
from tests.settings import API_KEY


@pytest.fixture(scope="module")
def daemon(vllm_cloud, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("daemon")
    flags = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY, "--threads", "2"]
    with DaemonProcess(flags, data_dir=str(data_dir), log_path=data_dir / "daemon.log") as d:
        yield d


@pytest.fixture
def oai(daemon) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{daemon.base_url}/v1", api_key="not-needed", max_retries=0, timeout=60)
