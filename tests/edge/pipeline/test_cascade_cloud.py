"""The cascade end to end: real SmolLM2 on the edge, real vLLM cloud over gRPC on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys

from edge.core.query import Policy, Query
from tests.edge.conftest import run_edge_cli, served_count

FRANCE = "What is the capital of France?"


async def test_confident_question_stays_on_edge(vllm_cloud, make_agent):
    agent = make_agent(vllm_cloud.address, threshold=0.5)
    before = await served_count(agent)
    result = await agent.namespace().answer(Query(question=FRANCE))
    assert result.served_by == "edge"
    assert result.answer == "Paris"
    assert result.provenance.confidence >= 0.5
    assert result.tokens.cloud_completion == 0 and result.tokens.edge > 0
    assert result.cost > 0 and result.timings.edge_ms > 0
    assert await served_count(agent) == before, "the cloud was not asked"


async def test_forced_threshold_escalates_caches_and_serves_repeat_from_cache(vllm_cloud, make_agent):
    agent = make_agent(vllm_cloud.address, threshold=1.0)
    before = await served_count(agent)
    first = await agent.namespace().answer(Query(question=FRANCE))
    assert first.served_by == "cloud"
    assert first.answer == "Paris"
    assert first.provenance.cloud_model == "gemma-3-270m-hf"
    assert first.tokens.cloud_prompt > 0
    kept = first.provenance.verified_tokens
    assert kept is not None and kept + first.tokens.cloud_completion > 0, "the cloud kept the draft or generated"
    assert first.provenance.confidence is not None and first.provenance.confidence < 1.0
    assert agent.namespace().status().cache_entries == 1

    again = await agent.namespace().answer(Query(question="  what is the capital of FRANCE? "))
    assert again.served_by == "cache"
    assert again.answer == "Paris"
    assert again.cost == 0.0 and again.tokens.edge == 0
    assert await served_count(agent) == before + 1, "the cloud saw exactly one request"


async def test_policy_overrides(vllm_cloud, make_agent):
    agent = make_agent(vllm_cloud.address, threshold=0.5, cache_enabled=False)
    forced_edge = await agent.namespace().answer(Query(question=FRANCE, policy=Policy(route="edge", threshold=1.0)))
    assert forced_edge.served_by == "edge"
    forced_cloud = await agent.namespace().answer(Query(question=FRANCE, policy=Policy(route="cloud")))
    assert forced_cloud.served_by == "cloud" and forced_cloud.tokens.edge == 0


async def test_early_escalation_stops_edge_generation(vllm_cloud, make_agent):
    agent = make_agent(vllm_cloud.address, estimator="min_logprob", threshold=0.9, cache_enabled=False)
    result = await agent.namespace().answer(Query(question="Write a poem about the sea.", max_tokens=48, stop=()))
    assert result.provenance.early_escalation
    assert result.served_by == "cloud"
    assert 1 <= result.tokens.edge < 48, "the edge stopped before max_tokens"


def _ask(data_dir, cloud_address: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return run_edge_cli(data_dir, "ask", cloud_address, *args, stdin=stdin)


def test_cache_survives_edge_restart(vllm_cloud, tmp_path):
    first = _ask(tmp_path, vllm_cloud.address, FRANCE, "--json", "--threshold", "1.0")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["served_by"] == "cloud"
    second = _ask(tmp_path, vllm_cloud.address, FRANCE, "--json", "--threshold", "1.0")
    assert second.returncode == 0, second.stderr
    reply = json.loads(second.stdout)
    assert reply["served_by"] == "cache" and reply["answer"] == "Paris"

    plain = _ask(tmp_path, vllm_cloud.address, FRANCE, "--threshold", "1.0")
    lines = plain.stdout.decode().splitlines()
    assert lines[0] == "Paris" and lines[1].startswith("[served_by=cache")


def test_bad_input_to_ask_exits_nonzero_and_caches_nothing(vllm_cloud, tmp_path):
    cases = [
        ((" ",), None, "the question is empty"),
        (("word " * 3000,), None, "exceeds the edge context"),
        (("-",), b"\xff\xfeWhat?", "not valid UTF-8"),
    ]
    for args, stdin, message in cases:
        done = _ask(tmp_path, vllm_cloud.address, *args, "--threshold", "1.0", stdin=stdin)
        assert done.returncode == 2
        assert message in done.stderr.decode()
    stats = subprocess.run(
        [sys.executable, "-m", "edge.cli", "--data-dir", str(tmp_path), "cache", "stats"],
        capture_output=True,
        timeout=60,
    )
    assert json.loads(stats.stdout)["entries"] == 0


async def test_cache_as_context_shows_the_edge_similar_cloud_answers(vllm_cloud, make_agent):
    agent = make_agent(vllm_cloud.address, threshold=1.0, cache_as_context=True, cache_context_min_similarity=0.5)
    cached = await agent.namespace().answer(Query(question="What is the capital of Lithuania?"))
    assert cached.served_by == "cloud"
    latvia = "What is the capital of Latvia?"
    result = await agent.namespace().answer(Query(question=latvia, policy=Policy(route="edge")))
    drafts = agent.namespace().labeled
    plain = (await drafts.draft(Query(question=latvia))).prompt_tokens
    with_pair = (
        await drafts.draft(Query(question=latvia), [("What is the capital of Lithuania?", cached.answer)])
    ).prompt_tokens
    assert result.served_by == "edge"
    assert result.tokens.prompt == with_pair > plain, "the cached Lithuania pair went into the edge prompt"
