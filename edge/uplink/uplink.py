"""Escalation to the cloud that never raises: deltas as they arrive, then a result or the reason there is none."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace

import grpc

from edge.core.protocols import EgressAudit, UplinkDelta, UplinkDone, UplinkEvent, settle
from edge.uplink.breaker import BreakerState, CircuitBreaker
from edge.uplink.client import CloudClient, StreamAssembler
from shared.types import GenerationRequest
from shared.wire import request_to_proto

log = logging.getLogger(__name__)

_REASONS = {
    grpc.StatusCode.UNAVAILABLE: "cloud_unreachable",
    grpc.StatusCode.DEADLINE_EXCEEDED: "cloud_deadline_exceeded",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "cloud_overloaded",
    grpc.StatusCode.UNAUTHENTICATED: "cloud_auth_failed",
    grpc.StatusCode.INVALID_ARGUMENT: "cloud_rejected_request",
}
# The request's own fault: the cloud is healthy, so these must not open the circuit.
_NOT_CLOUD_FAULTS = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED}
# How gRPC reports a failed handshake (wrong CA, expired or unnamed certificate). A server refusing our client
# certificate just closes the socket during the handshake, which only a TLS channel can read that way.
_TLS_MARKERS = ("handshake", "ssl_error", "certificate", "hostname verification", "tsi_")


def failure_reason(code: grpc.StatusCode, detail: str, tls: bool) -> str:
    lowered = detail.lower()
    if (
        code == grpc.StatusCode.UNAVAILABLE
        and tls
        and (any(m in lowered for m in _TLS_MARKERS) or "socket closed" in lowered)
    ):
        return "cloud_tls_failed"
    return _REASONS.get(code, f"cloud_error_{code.name.lower()}")


def _refuses_fields(done: UplinkDone) -> bool:
    """The cloud's validation refused a field it does not know (cloud/validation.py): an older contract."""
    return done.failure == "cloud_rejected_request" and "does not know" in (done.detail or "")


def _without(request: GenerationRequest, verify: bool, fleet: bool) -> GenerationRequest:
    """The request without the fields an older cloud refused: draft verification (#10), the fleet's edge context."""
    ctx = request.edge_context
    if fleet and ctx is not None:
        ctx = replace(ctx, fleet_share="off", question_embedding=(), embedder="", draft_cut_short=False)
    return replace(request, verify=None if verify else request.verify, edge_context=ctx)


class CloudUplink:
    """Implements `Uplink` over the gRPC client, behind a circuit breaker."""

    def __init__(self, client: CloudClient, breaker: CircuitBreaker, s_per_token: float = 0.0) -> None:
        self.client = client
        self.breaker = breaker
        self.s_per_token = s_per_token
        # What the cloud refused as unknown (an older contract): never sent again.
        self.verify_refused = False
        self.fleet_refused = False

    def deadline_s(self, request: GenerationRequest) -> float:
        """The client's deadline plus an allowance per requested token: the whole stream must fit in it."""
        return self.client.timeout_s + self.s_per_token * request.sampling.max_tokens

    @property
    def available(self) -> bool:
        return self.breaker.state != BreakerState.OPEN

    async def stream(
        self, request: GenerationRequest, audit: EgressAudit | None = None
    ) -> AsyncGenerator[UplinkEvent, None]:
        """One escalation. A cloud older than draft verification or fleet learning refuses the fields it does not
        know (it names them): the request is sent again without those, and no later one carries them. `audit`
        records each message exactly as it is sent, before it is."""
        request = _without(request, self.verify_refused, self.fleet_refused)
        async with aclosing(self._stream(request, audit)) as events:
            async for event in events:
                if isinstance(event, UplinkDone) and _refuses_fields(event):
                    detail = event.detail or ""
                    fleet = "edge_context.#" in detail
                    verify = "#10" in detail.replace("edge_context.#", "") or not fleet
                    older = _without(request, verify, fleet)
                    if older != request:
                        self.verify_refused |= verify and request.verify is not None
                        self.fleet_refused |= fleet
                        log.warning(
                            "the cloud does not know some fields; escalating without them", extra={"detail": detail}
                        )
                        async with aclosing(self._stream(older, audit)) as again:
                            async for retried in again:
                                yield retried
                        return
                yield event

    async def _stream(self, request: GenerationRequest, audit: EgressAudit | None) -> AsyncGenerator[UplinkEvent, None]:
        if not self.breaker.allow():
            yield UplinkDone(None, "cloud_circuit_open", "recent cloud calls failed; not waiting on it", sent=False)
            return
        message = request_to_proto(request)
        if audit is not None and not audit(request.request_id, message.SerializeToString()):
            self.breaker.release_trial()
            yield UplinkDone(None, "egress_log_failed", "the egress log is unwritable; nothing was sent", sent=False)
            return
        call = self.client.stream(request, self.deadline_s(request), message)
        assembler = StreamAssembler(time.perf_counter())
        settled = False
        try:
            async for message in call:
                if (delta := assembler.add(message)) is not None:
                    yield UplinkDelta(delta)
                elif assembler.result is not None:
                    break
            if assembler.result is None:
                raise RuntimeError("cloud stream ended without a final message")
            self.breaker.record_success()
            settled = True
            done = UplinkDone(assembler.result)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code not in _NOT_CLOUD_FAULTS:
                self.breaker.record_failure()
            settled = True
            reason = failure_reason(code, exc.details() or "", self.client.tls is not None)
            log.warning("escalation failed", extra={"reason": reason, "detail": exc.details()})
            done = UplinkDone(None, reason, exc.details() or "")
        except Exception as exc:  # a broken stream must degrade the answer, never crash the caller
            self.breaker.record_failure()
            settled = True
            log.exception("escalation failed unexpectedly")
            done = UplinkDone(None, "cloud_error", str(exc))
        finally:
            if not settled:
                # Cancelled or closed by the caller: says nothing about the cloud, but a half-open trial
                # must not stay marked in flight, or the circuit would never close again.
                self.breaker.release_trial()
            call.cancel()  # no-op once finished; otherwise aborts the request in the cloud engine
        yield done

    async def ask(self, request: GenerationRequest) -> UplinkDone:
        """The whole escalation at once (labeled runs, the reconciler)."""
        async with aclosing(self.stream(request)) as events:
            return await settle(events)
