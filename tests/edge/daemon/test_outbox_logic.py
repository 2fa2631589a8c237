"""The outbox alone (real SQLite) and the reconciler alone (an in-memory cloud): pure logic, milliseconds a case."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from edge.core.protocols import UplinkDone
from edge.core.query import Policy, Query, QueryStyle
from edge.daemon.outbox import Outbox, Reconciler, query_from_json, query_to_json
from shared.types import CacheHint, ChatMessage, FinishReason, GenerationResult, ServerTimings

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(str.strip)
queries = st.builds(
    Query,
    question=texts,
    max_tokens=st.none() | st.integers(1, 256),
    temperature=st.floats(0, 2),
    top_p=st.floats(0.01, 1),
    stop=st.none() | st.lists(texts, max_size=3).map(tuple),
    seed=st.none() | st.integers(0, 2**31),
    request_id=st.text(max_size=8),
    logprobs=st.booleans(),
    style=st.builds(QueryStyle, prompt_style=st.sampled_from(["few_shot_qa", "chat"]), max_tokens=st.integers(1, 64)),
) | st.builds(
    Query,
    messages=st.lists(
        st.builds(ChatMessage, role=st.sampled_from(["user", "assistant"]), content=texts), min_size=1
    ).map(tuple),
)


@given(query=queries)
def test_a_queued_query_round_trips_through_json_and_goes_to_the_cloud(query: Query):
    again = query_from_json(query_to_json(query))
    assert again == Query(**{**query.__dict__, "policy": Policy()}), "everything but the policy survives"


def _result(request_id: str, text: str) -> GenerationResult:
    timings, cache = ServerTimings(0.0, 1.0, 2.0), CacheHint(True, 3600)
    return GenerationResult(request_id, text, (), FinishReason.STOP, "cloud-model", 7, 3, timings, cache)


@dataclass
class Cloud:
    """An in-memory `CloudAsker`: answers while up, fails from `fail_after` answers on."""

    up: bool = True
    fail_after: int = 1_000
    asked: list[str] = field(default_factory=list)

    @property
    def cloud_available(self) -> bool:
        return self.up

    async def escalate(self, query: Query) -> UplinkDone:
        self.asked.append(query.request_id)
        if len(self.asked) > self.fail_after:
            return UplinkDone(None, "cloud_unavailable")
        return UplinkDone(_result(query.request_id, f"answer to {query.question}"))


def _outbox(tmp_path, n: int) -> Outbox:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    for i in range(n):
        outbox.add(Query(question=f"q{i}?", request_id=f"r{i}"), f"degraded {i}", "cloud_unavailable")
    return outbox


async def test_reconciles_each_pending_query_once_and_reports_each_pass(tmp_path):
    outbox, cloud, passes = _outbox(tmp_path, 3), Cloud(), []
    three = asyncio.Event()

    def on_pass(reconciled: int) -> None:
        passes.append(reconciled)
        if len(passes) == 3:
            three.set()

    running = asyncio.create_task(Reconciler(outbox, cloud, interval_s=0.0, batch=2, on_pass=on_pass).run())
    await asyncio.wait_for(three.wait(), 10)
    running.cancel()
    assert passes[:3] == [2, 1, 0], "two per pass, then the last one, then nothing left"
    assert sorted(cloud.asked) == ["r0-reconcile", "r1-reconcile", "r2-reconcile"]
    answers = [r.cloud_answer for r in sorted(outbox.reconciled_since(0), key=lambda r: r.id)]
    assert answers == ["answer to q0?", "answer to q1?", "answer to q2?"]
    assert outbox.pending_count() == 0
    outbox.close()


async def test_a_pass_stops_at_the_first_failure_and_waits_while_the_circuit_is_open(tmp_path):
    outbox, cloud = _outbox(tmp_path, 3), Cloud(fail_after=1)
    reconciler = Reconciler(outbox, cloud, interval_s=60, batch=10)
    assert await reconciler.run_once() == 1, "the second failed: the pass stops there"
    assert len(cloud.asked) == 2 and outbox.pending_count() == 2
    cloud.up, asked = False, len(cloud.asked)
    assert await reconciler.run_once() == 0 and len(cloud.asked) == asked, "nothing is asked while the circuit is open"
    outbox.close()
