"""Feedback through the real daemon teaches the router: a question the edge got wrong goes to the cloud next time."""

from __future__ import annotations

import httpx
import pytest

from tests.edge.conftest import ask_daemon

BURKINA = "What is the capital of Burkina Faso?"
PARAPHRASE = "Which city is the capital of Burkina Faso?"


def test_feedback_changes_routing_before_generation(daemon):
    before = ask_daemon(daemon.base_url, PARAPHRASE, {"threshold": 0.0})["tandem"]
    assert before["router_confidence"] is None and before["routed_before_generation"] is None

    served = ask_daemon(daemon.base_url, BURKINA, {"route": "edge"})
    assert served["tandem"]["served_by"] == "edge"
    reply = httpx.post(f"{daemon.base_url}/v1/tandem/feedback", json={"response_id": served["id"], "correct": False})
    assert reply.status_code == 200 and reply.json()["recorded"]
    one_side = ask_daemon(daemon.base_url, PARAPHRASE, {"threshold": 0.0})["tandem"]
    assert one_side["router_confidence"] < 0.5, "the edge failed here: the router now leans to the cloud"

    # The app also confirms a cloud answer (other sampling: not a cache hit for the paraphrase below).
    cloud = ask_daemon(daemon.base_url, BURKINA, {"route": "cloud"}, max_tokens=30)
    assert cloud["tandem"]["served_by"] == "cloud"
    reply = httpx.post(f"{daemon.base_url}/v1/tandem/feedback", json={"response_id": cloud["id"], "correct": True})
    assert reply.status_code == 200 and reply.json()["served_by"] == "cloud"

    after = ask_daemon(daemon.base_url, PARAPHRASE, {})["tandem"]
    assert after["routed_before_generation"] == "cloud", after["reasons"]
    assert after["served_by"] == "cloud" and after["tokens"]["edge"] == 0, "no edge time spent"
    assert after["router_confidence"] < one_side["router_confidence"]


@pytest.mark.parametrize(
    "body,status",
    [
        ({"response_id": "chatcmpl-doesnotexist", "correct": True}, 404),
        ({"response_id": 5, "correct": "yes"}, 400),
        ({"correct": True}, 400),
        ({"response_id": "x", "correct": True, "extra": 1}, 400),
    ],
)
def test_bad_feedback_is_rejected(daemon, body, status):
    reply = httpx.post(f"{daemon.base_url}/v1/tandem/feedback", json=body)
    assert reply.status_code == status
    assert reply.json()["error"]["message"]
