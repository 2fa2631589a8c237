"""Learning from traffic through the real daemon: an escalated draft becomes a label the router uses at once."""

from __future__ import annotations

import pytest

from shared.launchers import DaemonProcess
from tests.edge.conftest import ask_daemon
from tests.settings import API_KEY

PERU = "What is the capital of Peru?"


@pytest.fixture(scope="module")
def learning_daemon(vllm_cloud, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("learning")
    # Whole drafts (no early stop), so every escalation can be compared with the cloud's answer.
    flags = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY, "--early-escalation", "false"]
    with DaemonProcess(flags, data_dir=str(data_dir), log_path=data_dir / "daemon.log") as d:
        yield d


def test_an_escalated_draft_is_labeled_and_learned(learning_daemon):
    state = learning_daemon.healthz()["namespaces"][""]
    assert state["learned"] == {} and state["router_labels"] == 0
    forced = ask_daemon(learning_daemon.base_url, PERU, {"route": "cloud"})
    assert forced["tandem"]["served_by"] == "cloud"
    assert learning_daemon.healthz()["namespaces"][""]["learned"] == {}, "a forced route is no decision to learn from"

    escalated = ask_daemon(learning_daemon.base_url, "What is the capital of Kenya?", {"threshold": 1.0})
    assert escalated["tandem"]["served_by"] == "cloud" and escalated["tandem"]["tokens"]["edge"] > 0
    state = learning_daemon.healthz()["namespaces"][""]
    labels = state["learned"]["agreement"]
    assert labels["edge_right"] + labels["edge_wrong"] == 1 and state["router_labels"] == 1
    assert state["audits"]["rate"] == 0.0, "the tests' hermetic settings turn audits off"
    guard = state["guard"]
    assert guard["serving"] == "policy" and guard["escalated"]["labels"] == 0, "a request's threshold is no decision"
