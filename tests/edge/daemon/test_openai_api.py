"""The official `openai` client against the real daemon: chat, streaming, completions, provenance, cache."""

from __future__ import annotations

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

FRANCE = [{"role": "user", "content": "What is the capital of France?"}]


def metric_values(base_url: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_chat_non_streaming_with_provenance(oai):
    reply = oai.chat.completions.create(model="tandem", messages=FRANCE, logprobs=True)
    assert reply.choices[0].message.content == "Paris"
    assert reply.choices[0].finish_reason == "stop"
    tandem = reply.model_extra["tandem"]
    assert tandem["served_by"] == "edge" and not tandem["degraded"]
    assert 0.5 <= tandem["confidence"] <= 1.0
    assert tandem["cost"] > 0
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens >= 1
    lps = reply.choices[0].logprobs.content
    assert lps and all(t.logprob <= 0 for t in lps)


def test_chat_streaming(oai):
    chunks = list(oai.chat.completions.create(model="tandem", messages=FRANCE, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Paris"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["tandem"]["served_by"] in ("edge", "cache")


def test_completion_with_logprobs(oai):
    reply = oai.completions.create(
        model="tandem",
        prompt="The capital of France is",
        max_tokens=4,
        logprobs=1,
        extra_body={"tandem": {"route": "edge"}},
    )
    choice = reply.choices[0]
    assert choice.text.strip()
    assert len(choice.logprobs.tokens) == len(choice.logprobs.token_logprobs) >= 1
    assert reply.model_extra["tandem"]["served_by"] == "edge"


def test_escalated_answer_is_cached_and_served_from_cache(oai, daemon):
    messages = [{"role": "user", "content": "What is the capital of Burkina Faso?"}]
    first = oai.chat.completions.create(model="tandem", messages=messages, extra_body={"tandem": {"threshold": 1.0}})
    assert first.model_extra["tandem"]["served_by"] == "cloud"
    assert first.choices[0].message.content == "Ouagadougou"
    again = oai.chat.completions.create(model="tandem", messages=messages, extra_body={"tandem": {"threshold": 1.0}})
    assert again.model_extra["tandem"]["served_by"] == "cache"
    assert again.choices[0].message.content == "Ouagadougou"


def test_a_drafted_escalation_is_verified_and_answers_as_the_cloud_alone(oai):
    messages = [{"role": "user", "content": "What is the capital of Mongolia?"}]
    drafted = oai.chat.completions.create(model="tandem", messages=messages, extra_body={"tandem": {"threshold": 1.0}})
    tandem = drafted.model_extra["tandem"]
    assert tandem["served_by"] == "cloud" and tandem["draft_tokens"] >= 1 and tandem["verification"], tandem
    assert 0 <= tandem["verified_tokens"] <= tandem["draft_tokens"]
    alone = oai.chat.completions.create(model="tandem", messages=messages, extra_body={"tandem": {"route": "cloud"}})
    assert alone.model_extra["tandem"]["draft_tokens"] is None, "no draft, nothing to verify"
    assert drafted.choices[0].message.content == alone.choices[0].message.content, "exact: the cloud's own answer"


def test_models_and_health(oai, daemon):
    assert [m.id for m in oai.models.list()] == ["tandem"]
    health = daemon.healthz()
    assert health["status"] == "ok"
    assert health["edge_model"]["loaded"] and health["cloud"]["reachable"] and health["cache"]["ok"]
    assert health["cloud"]["circuit"] == "closed"
    assert 0.0 <= health["device"]["cpu_percent"] <= 100.0
    assert 0.0 <= health["namespaces"][""]["effective_threshold"] <= 1.0


@pytest.mark.parametrize("route", ["edge", "cloud"])
def test_top_logprobs_gives_that_many_alternatives_from_either_side(oai, route):
    reply = oai.chat.completions.create(
        model="tandem", messages=FRANCE, logprobs=True, top_logprobs=3, extra_body={"tandem": {"route": route}}
    )
    assert reply.model_extra["tandem"]["served_by"] == route
    tokens = reply.choices[0].logprobs.content
    assert tokens and all(len(t.top_logprobs) == 3 for t in tokens)
    assert all(max(a.logprob for a in t.top_logprobs) >= t.logprob - 1e-4 for t in tokens), "greedy: none beats it"


def test_metrics_parse_and_move(oai, daemon):
    before = metric_values(daemon.base_url)
    oai.chat.completions.create(model="tandem", messages=FRANCE, extra_body={"tandem": {"route": "edge"}})
    after = metric_values(daemon.base_url)
    key = ("tandem_requests_total", (("outcome", "edge"),))
    assert after[key] == before.get(key, 0.0) + 1
    assert after[("tandem_edge_tokens_total", ())] > before.get(("tandem_edge_tokens_total", ()), 0.0)
    assert ("tandem_cloud_circuit_state", ()) in after
    assert ("tandem_cache_entries", ()) in after
    assert after[("tandem_request_latency_seconds_count", (("path", "edge"),))] >= 1


BAD = [
    ("malformed json", b"{not json", 400, "invalid_json"),
    ("unknown model", b'{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}', 404, "model_not_found"),
    ("wrong type", b'{"model": "tandem", "messages": "hello"}', 400, "invalid_value"),
    (
        "negative max_tokens",
        b'{"model": "tandem", "max_tokens": -3, "messages": [{"role": "user", "content": "hi"}]}',
        400,
        "invalid_value",
    ),
    (
        "over-long input",
        b'{"model": "tandem", "messages": [{"role": "user", "content": "' + b"a" * 30000 + b'"}]}',
        400,
        "invalid_value",
    ),
    ("oversized body", b'{"model": "tandem", "pad": "' + b"x" * 1_200_000 + b'"}', 413, "body_too_large"),
    ("bad role", b'{"model": "tandem", "messages": [{"role": "wizard", "content": "hi"}]}', 400, "invalid_value"),
]


@pytest.mark.parametrize("name,body,status,code", BAD, ids=[b[0] for b in BAD])
def test_bad_requests_get_openai_errors_and_daemon_keeps_serving(daemon, oai, name, body, status, code):
    reply = httpx.post(
        f"{daemon.base_url}/v1/chat/completions", content=body, headers={"content-type": "application/json"}, timeout=30
    )
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["code"] == code and error["message"] and error["type"]
    assert oai.chat.completions.create(model="tandem", messages=FRANCE).choices[0].message.content == "Paris"


def test_openai_client_surfaces_validation_errors(oai):
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="tandem", messages=FRANCE, max_tokens=-1)
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model="nope", messages=FRANCE)
