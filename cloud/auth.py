"""Bearer-token auth as a server interceptor, so no handler can forget it."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import grpc

# Health and reflection stay open: load balancers and grpcurl probe them without credentials.
OPEN_SERVICE_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _deny_handler(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    async def deny(request, context: grpc.aio.ServicerContext):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid API key")

    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(
            deny,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return grpc.unary_unary_rpc_method_handler(
        deny,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class ApiKeyInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, api_keys: list[str]) -> None:
        self._keys = [k.encode() for k in api_keys]

    def _authorized(self, metadata: tuple[tuple[str, str | bytes], ...]) -> bool:
        for key, value in metadata:
            if key == "authorization":
                token = value if isinstance(value, bytes) else value.encode()
                if not token.startswith(b"Bearer "):
                    return False
                presented = token[len(b"Bearer ") :]
                # Compare against every key so timing does not reveal which one matched.
                return sum(secrets.compare_digest(presented, k) for k in self._keys) > 0
        return False

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(OPEN_SERVICE_PREFIXES):
            return handler
        if self._authorized(tuple(handler_call_details.invocation_metadata or ())):
            return handler
        return _deny_handler(handler)
