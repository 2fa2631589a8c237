"""Escalation to the cloud that never raises: failures come back as a reason the cascade can report."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc

from edge.circuit_breaker import CircuitBreaker
from edge.cloud_client import CloudClient
from shared.types import GenerationRequest, GenerationResult

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


@dataclass(frozen=True)
class CloudOutcome:
    result: GenerationResult | None
    failure: str | None = None  # why there is no result
    detail: str = ""


class CloudEscalator:
    def __init__(self, client: CloudClient, breaker: CircuitBreaker, timeout_s: float) -> None:
        self.client = client
        self.breaker = breaker
        self.timeout_s = timeout_s

    async def ask(self, request: GenerationRequest) -> CloudOutcome:
        if not self.breaker.allow():
            return CloudOutcome(None, "cloud_circuit_open", "recent cloud calls failed; not waiting on it")
        try:
            result = await self.client.generate(request, timeout_s=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code not in _NOT_CLOUD_FAULTS:
                self.breaker.record_failure()
            reason = _REASONS.get(code, f"cloud_error_{code.name.lower()}")
            log.warning("escalation failed", extra={"reason": reason, "detail": exc.details()})
            return CloudOutcome(None, reason, exc.details() or "")
        except Exception as exc:  # a broken stream must degrade the answer, never crash the caller
            self.breaker.record_failure()
            log.exception("escalation failed unexpectedly")
            return CloudOutcome(None, "cloud_error", str(exc))
        self.breaker.record_success()
        return CloudOutcome(result)
