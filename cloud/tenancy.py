"""Who is calling and how much they may: tenant authentication and per-tenant quotas, as one interceptor.

The interceptor wraps every method handler (apart from health and reflection), so no RPC can forget either.
A tenant comes from a bearer key (the key store, or the static `api_keys` for development) or, with mTLS,
from the client certificate's common name. Quotas: a token bucket of requests per second and a cap on
concurrent streams, both per tenant; over either the call gets RESOURCE_EXHAUSTED with a retry hint.
The same wrapper turns a request that does not decode into INVALID_ARGUMENT (gRPC itself says UNKNOWN).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc

from cloud.keys import KeyStore
from shared.config import CloudConfig
from shared.logging_setup import tenant_var
from shared.tokens import match_token

# Health and reflection stay open: load balancers and grpcurl probe them without credentials.
OPEN_SERVICE_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
STATIC_TENANT = "default"  # keys given in config (`api_keys`), meant for development
ANONYMOUS = "anonymous"  # no credentials configured at all: loopback development
RETRY_AFTER_KEY = "retry-after-ms"


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.stamp = clock()

    def take(self) -> float:
        """0 when a request may go now; otherwise the seconds until it may."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class TenantUsage:
    requests: int = 0
    rejected: int = 0
    active_streams: int = 0


class Rejected(Exception):
    def __init__(self, code: grpc.StatusCode, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after_s = retry_after_s


class TenantGate:
    """Authentication, quotas and per-tenant counters; pure bookkeeping on one event loop (no locks)."""

    def __init__(self, config: CloudConfig, store: KeyStore, clock: Callable[[], float] = time.monotonic) -> None:
        self._static = [(k.encode(), STATIC_TENANT) for k in config.auth.api_keys]
        self._store = store
        self._mtls = config.auth.mtls_tenant_from_cert and bool(config.tls.client_ca)
        self._rate = config.tenants.requests_per_s
        self._burst = config.tenants.burst or max(1.0, 2 * self._rate)
        self._max_streams = config.tenants.max_streams
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self.usage: dict[str, TenantUsage] = {}

    @property
    def required(self) -> bool:
        return bool(self._static) or self._store.exists or self._mtls

    def authenticate(self, metadata: tuple[tuple[str, str | bytes], ...], auth: dict[str, list[bytes]]) -> str:
        token = next((v for k, v in metadata if k == "authorization"), None)
        if token is not None:
            raw = token if isinstance(token, bytes) else token.encode()
            if raw.startswith(b"Bearer "):
                key = raw[len(b"Bearer ") :]
                tenant = match_token(key, self._static) or self._store.tenant_for(key.decode(errors="replace"))
                if tenant is not None:
                    return tenant
            if self.required:
                raise Rejected(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid API key")
        names = auth.get("x509_common_name") or []
        if self._mtls and names:
            return names[0].decode(errors="replace")
        if self.required:
            raise Rejected(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid API key")
        return ANONYMOUS

    def admit(self, tenant: str, stream: bool) -> TenantUsage:
        usage = self.usage.setdefault(tenant, TenantUsage())
        usage.requests += 1
        if self._rate > 0:
            bucket = self._buckets.setdefault(tenant, TokenBucket(self._rate, self._burst, self._clock))
            wait_s = bucket.take()
            if wait_s > 0:
                usage.rejected += 1
                raise Rejected(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"tenant '{tenant}' is over {self._rate:g} requests/s; retry in {wait_s:.2f} s",
                    wait_s,
                )
        if stream and self._max_streams and usage.active_streams >= self._max_streams:
            usage.rejected += 1
            raise Rejected(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"tenant '{tenant}' already has {self._max_streams} streams open; retry when one ends",
                0.5,
            )
        return usage


async def _reject(context: grpc.aio.ServicerContext, exc: Rejected) -> None:
    if exc.retry_after_s is not None:
        context.set_trailing_metadata(((RETRY_AFTER_KEY, str(max(1, round(exc.retry_after_s * 1000)))),))
    await context.abort(exc.code, str(exc))


def _admitted(gate: TenantGate, context: grpc.aio.ServicerContext, stream: bool) -> tuple[str, TenantUsage]:
    tenant = gate.authenticate(tuple(context.invocation_metadata() or ()), context.auth_context())
    tenant_var.set(tenant)
    return tenant, gate.admit(tenant, stream)


@dataclass(frozen=True)
class Undecodable:
    """Bytes that are not the method's request message: refused as INVALID_ARGUMENT, not gRPC's UNKNOWN."""

    error: str


def _tolerant(deserializer: Callable[[bytes], object] | None) -> Callable[[bytes], object] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> object:
        try:
            return deserializer(data)
        except Exception as exc:  # DecodeError, bad UTF-8, recursion: all mean a malformed request
            return Undecodable(str(exc))

    return decode


def _check_decoded(request: object) -> None:
    if isinstance(request, Undecodable):
        raise Rejected(grpc.StatusCode.INVALID_ARGUMENT, f"request is not a valid message: {request.error}")


def _guard(handler: grpc.RpcMethodHandler, gate: TenantGate) -> grpc.RpcMethodHandler:
    codec = {
        "request_deserializer": _tolerant(handler.request_deserializer),
        "response_serializer": handler.response_serializer,
    }
    if handler.response_streaming:
        inner_stream = handler.unary_stream

        async def guarded_stream(request, context: grpc.aio.ServicerContext) -> AsyncIterator:
            try:
                _, usage = _admitted(gate, context, stream=True)
                _check_decoded(request)
            except Rejected as exc:
                await _reject(context, exc)
                return
            usage.active_streams += 1
            try:
                async for message in inner_stream(request, context):
                    yield message
            finally:
                usage.active_streams -= 1

        return grpc.unary_stream_rpc_method_handler(guarded_stream, **codec)

    inner_unary = handler.unary_unary

    async def guarded_unary(request, context: grpc.aio.ServicerContext):
        try:
            _admitted(gate, context, stream=False)
            _check_decoded(request)
        except Rejected as exc:
            await _reject(context, exc)
        return await inner_unary(request, context)

    return grpc.unary_unary_rpc_method_handler(guarded_unary, **codec)


class TenantInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, gate: TenantGate) -> None:
        self.gate = gate

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(OPEN_SERVICE_PREFIXES):
            return handler
        return _guard(handler, self.gate)
