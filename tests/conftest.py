"""Test-wide fixtures: a hermetic data dir, and one real cloud service (vLLM on CPU) for the session."""

from __future__ import annotations

import os

import pytest

from cloud.launcher import CloudProcess
from shared.config import default_data_dir
from tests.settings import SERVER_FLAGS

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Prepared once by `make models` into the user's data dir; linked in, never written by the tests.
PREPARED = ("models", "gguf")


@pytest.fixture(scope="session", autouse=True)
def hermetic_data_dir(tmp_path_factory):
    """Every process the tests start uses a fresh data dir (TANDEM_DATA_DIR), apart from the prepared models."""
    data_dir = tmp_path_factory.mktemp("tandem-data")
    for name in PREPARED:
        if (default_data_dir() / name).exists():
            (data_dir / name).symlink_to(default_data_dir() / name)
    patch = pytest.MonkeyPatch()
    patch.setenv("TANDEM_DATA_DIR", str(data_dir))
    yield data_dir
    patch.undo()


@pytest.fixture(scope="session")
def vllm_cloud(hermetic_data_dir, tmp_path_factory) -> CloudProcess:
    log = tmp_path_factory.mktemp("cloud") / "vllm-cloud.log"
    with CloudProcess(SERVER_FLAGS, log_path=log) as cloud:
        yield cloud
