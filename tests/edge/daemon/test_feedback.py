"""Feedback through the real daemon teaches the router: a question the edge got wrong goes to the cloud next time."""

from __future__ import annotations

import httpx
import pytest

BURKINA = "What is the capital of Burkina Faso?"
PARAPHRASE = "Which city is the capital of Burkina Faso?"


def chat(base_url: str, question: str, tandem: dict) -> dict:
    reply = httpx.post(
        f"{base_url}/v1/chat/completions",
        timeout=60,
        json={"model": "tandem", "messages": [{"role": "user", "content": question}], "tandem": tandem},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_feedback_changes_routing_before_generation(daemon):
    before = chat(daemon.base_url, PARAPHRASE, {"threshold": 0.0})["tandem"]
    assert before["router_confidence"] is None and before["routed_before_generation"] is None

    served = chat(daemon.base_url, BURKINA, {"route": "edge"})
    assert served["tandem"]["served_by"] == "edge"
    reply = httpx.post(f"{daemon.base_url}/v1/tandem/feedback", json={"response_id": served["id"], "correct": False})
    assert reply.status_code == 200 and reply.json()["recorded"]

    after = chat(daemon.base_url, PARAPHRASE, {})["tandem"]
    assert after["routed_before_generation"] == "cloud"
    assert after["served_by"] == "cloud" and after["tokens"]["edge"] == 0, "no edge time spent"
    assert after["router_confidence"] < 0.3


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
