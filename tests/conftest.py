"""Test-wide fixtures: one real cloud service (vLLM on CPU, the prepared Gemma-3-270M) for the session."""

from __future__ import annotations

import os

import pytest

from cloud.launcher import CloudProcess
from tests.settings import SERVER_FLAGS

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def vllm_cloud(tmp_path_factory) -> CloudProcess:
    log = tmp_path_factory.mktemp("cloud") / "vllm-cloud.log"
    with CloudProcess(SERVER_FLAGS, log_path=log) as cloud:
        yield cloud
