"""The uplink over a real gRPC channel: a cancelled half-open trial must not wedge the circuit."""

from __future__ import annotations

import asyncio
import socket
from contextlib import aclosing

import grpc

from edge.core.protocols import UplinkDone
from edge.uplink.breaker import BreakerState, CircuitBreaker
from edge.uplink.client import CloudClient
from edge.uplink.uplink import CloudUplink
from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc
from shared.types import DraftVerification, EdgeContext, GenerationRequest, SamplingParams, VerifyMode
from tests.clock import ManualClock


async def test_a_cancelled_trial_call_frees_the_half_open_circuit():
    # A listener that accepts and never answers: the call hangs until cancelled, like a stalled network.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        clock = ManualClock()
        breaker = CircuitBreaker(failure_threshold=1, reset_after_s=5, clock=clock)
        breaker.record_failure()
        clock.t = 5.0
        assert breaker.state == BreakerState.HALF_OPEN
        async with CloudClient(address, timeout_s=30) as client:
            uplink = CloudUplink(client, breaker)
            request = GenerationRequest("r1", SamplingParams(max_tokens=4), prompt="Hi")

            async def ask() -> None:
                async with aclosing(uplink.stream(request)) as events:
                    async for _ in events:
                        pass

            task = asyncio.create_task(ask())
            await asyncio.sleep(0.3)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert breaker.state == BreakerState.HALF_OPEN
            assert breaker.allow(), "the abandoned trial no longer blocks the next one"


async def test_failures_come_back_as_reasons_never_as_exceptions():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    async with CloudClient(f"127.0.0.1:{port}", timeout_s=5) as client:
        uplink = CloudUplink(client, CircuitBreaker(failure_threshold=5))
        done = await uplink.ask(GenerationRequest("r2", SamplingParams(max_tokens=4), prompt="Hi"))
    assert isinstance(done, UplinkDone) and done.result is None and done.failure == "cloud_unreachable"


async def test_the_stream_deadline_grows_with_the_answer_asked_for():
    """A long answer from a slow cloud is not cut at the base deadline; a stalled one still ends as a reason."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        async with CloudClient(f"127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.2) as client:
            uplink = CloudUplink(client, CircuitBreaker(failure_threshold=5), s_per_token=0.05)
            short, long = (GenerationRequest(f"r{n}", SamplingParams(max_tokens=n), prompt="Hi") for n in (4, 400))
            assert uplink.deadline_s(short) < 1.0 < 20.0 <= uplink.deadline_s(long)
            done = await uplink.ask(short)
    assert done.failure == "cloud_deadline_exceeded"


class OldCloud(inference_pb2_grpc.InferenceServiceServicer):
    """A cloud built before fleet learning (and, unless `knows_verify`, before draft verification): its validation
    refuses and names the fields it does not know, as cloud/validation.py does."""

    def __init__(self, knows_verify: bool = False) -> None:
        self.requests: list[pb.GenerateRequest] = []
        self.knows_verify = knows_verify

    async def Generate(self, request, context):
        self.requests.append(request)
        known = {"draft_answer", "confidence", "estimator", "edge_model"}
        unknown = [f"edge_context.#{f.number}" for f, _ in request.edge_context.ListFields() if f.name not in known]
        if request.HasField("verify_draft") and not self.knows_verify:
            unknown.append("#10")
        if unknown:
            message = f"request has fields this server does not know ({', '.join(unknown)})"
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, message)
        yield pb.GenerateResponse(delta=pb.TextDelta(text="Lima"))
        yield pb.GenerateResponse(final=pb.Final(request_id=request.request_id, finish_reason=pb.FINISH_REASON_STOP))


async def ask_old_cloud_twice(old: OldCloud, context: EdgeContext) -> tuple[UplinkDone, UplinkDone]:
    """The same drafted, verified escalation asked twice of `old` through one uplink."""
    server = grpc.aio.server()
    inference_pb2_grpc.add_InferenceServiceServicer_to_server(old, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with CloudClient(f"127.0.0.1:{port}", timeout_s=10) as client:
            uplink = CloudUplink(client, CircuitBreaker(failure_threshold=3, reset_after_s=5))
            asked = GenerationRequest(
                "r",
                SamplingParams(max_tokens=4),
                question="Capital of Peru?",
                edge_context=context,
                verify=DraftVerification(VerifyMode.EXACT),
            )
            return await uplink.ask(asked), await uplink.ask(asked)
    finally:
        await server.stop(None)


async def test_an_older_cloud_is_asked_again_without_draft_verification():
    old = OldCloud()
    first, second = await ask_old_cloud_twice(old, EdgeContext("Lima"))
    assert first.result is not None and first.result.text == "Lima" and second.result is not None
    assert [r.HasField("verify_draft") for r in old.requests] == [True, False, False], "refused once, then never sent"


async def test_an_older_cloud_is_asked_again_without_the_fleet_fields_and_keeps_verifying():
    old = OldCloud(knows_verify=True)
    shared = EdgeContext(
        "Lima", fleet_share="embeddings", question_embedding=(0.5,), embedder="m", draft_cut_short=True
    )
    first, second = await ask_old_cloud_twice(old, shared)
    assert first.result is not None and first.result.text == "Lima" and second.result is not None
    assert [len(r.edge_context.question_embedding) for r in old.requests] == [1, 0, 0], "refused once, then not sent"
    assert all(r.HasField("verify_draft") for r in old.requests), "a cloud that verifies keeps being asked to"
