"""Test-wide fixtures: a hermetic data dir, and one real cloud service (vLLM on CPU) for the session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloud.keys import KeyStore
from shared.config import default_data_dir
from shared.launchers import CloudProcess
from shared.service_process import free_port
from tests.settings import FLEET_CONSENTING, MECHANICS_CLOUD_MODEL, MECHANICS_EDGE_MODEL, SERVER_FLAGS

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Prepared once by `make models` into the user's data dir; linked in, never written by the tests.
PREPARED = ("models", "gguf")
# What a test needs, read from the fixtures it uses; modules that start engines themselves mark it at the top.
MARKER_OF_FIXTURE = {"vllm_cloud": "vllm", "trained_experts": "experts"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in MARKER_OF_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def hermetic_data_dir(tmp_path_factory):
    """Every process the tests start uses a fresh data dir (TANDEM_DATA_DIR), apart from the prepared models."""
    data_dir = tmp_path_factory.mktemp("tandem-data")
    for name in PREPARED:
        if (default_data_dir() / name).exists():
            (data_dir / name).symlink_to(default_data_dir() / name)
    patch = pytest.MonkeyPatch()
    patch.setenv("TANDEM_DATA_DIR", str(data_dir))
    # Mechanics are tested on the fast pair; tests of the default pair name theirs (tests/settings.py).
    patch.setenv("TANDEM_CLOUD__ENGINE__KNOWN_MODEL", MECHANICS_CLOUD_MODEL)
    patch.setenv("TANDEM_EDGE__LOCAL__MODEL", MECHANICS_EDGE_MODEL)
    # Audits draw at random: a test of mechanics must not learn a label it did not ask for (tests of audits set it).
    patch.setenv("TANDEM_EDGE__ROUTING__AUDIT_RATE", "0")
    yield data_dir
    patch.undo()


@pytest.fixture(scope="session")
def session_keys(tmp_path_factory) -> Path:
    """The session cloud's own key file: other clouds the tests start share the data dir, not these keys."""
    return tmp_path_factory.mktemp("keys") / "keys.json"


@pytest.fixture(scope="session")
def vllm_cloud(hermetic_data_dir, tmp_path_factory, session_keys) -> CloudProcess:
    log = tmp_path_factory.mktemp("cloud") / "vllm-cloud.log"
    flags = [*SERVER_FLAGS, "--metrics-port", str(free_port()), "--keys-file", str(session_keys)]
    with CloudProcess(flags, log_path=log) as cloud:
        yield cloud


@pytest.fixture(scope="session")
def fleet_tenants(session_keys) -> dict[str, str]:
    """API keys of three tenants in the session cloud's key file (reloaded live): acme and beta consent to fleet
    records (tests/settings.py), gamma does not."""
    store = KeyStore(session_keys)
    return {tenant: store.add(tenant)[1] for tenant in (*FLEET_CONSENTING, "gamma")}
