"""The edge's gRPC client for tandem.v1.InferenceService and FleetService."""

from __future__ import annotations

import json
import time

import grpc

from shared.client_tls import ClientTls
from shared.config import UplinkConfig
from shared.network import channel_target
from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc
from shared.types import GenerationRequest, GenerationResult, ModelInfo, TokenLogprob
from shared.wire import (
    FINISH_FROM_PB,
    cache_from_proto,
    model_info_from_proto,
    request_to_proto,
    timings_from_proto,
    tokens_from_proto,
    verification_from_proto,
)

# Retries apply only before response headers arrive, so a started stream is never replayed. Several endpoints
# (a list, or a DNS name with several addresses) are balanced round robin; client-side health checking keeps
# a draining or dead endpoint out of the rotation before a stream starts.
_SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "healthCheckConfig": {"serviceName": "tandem.v1.InferenceService"},
    "methodConfig": [
        {
            "name": [{"service": "tandem.v1.InferenceService"}],
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.1s",
                "maxBackoff": "1s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ],
}
CHANNEL_OPTIONS = [
    ("grpc.service_config", json.dumps(_SERVICE_CONFIG)),
    ("grpc.enable_retries", 1),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # gRPC's default backoff grows to 2 min: after a long outage the edge would keep degrading that long
    # after the cloud is back. 10 s bounds how late recovery is noticed.
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 10_000),
    # A fleet router of a large tenant is several MB (384 floats a row); gRPC's default cap is 4 MB.
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
]


class CloudClient:
    """One channel, reused for every call; `async with` closes it."""

    def __init__(self, address: str, api_key: str = "", timeout_s: float = 30.0, tls: ClientTls | None = None) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self.tls = tls
        self._metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        target = channel_target(address)
        if tls is None:
            self._channel = grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
        else:
            options = [*CHANNEL_OPTIONS]
            if tls.server_name:
                options.append(("grpc.ssl_target_name_override", tls.server_name))
            self._channel = grpc.aio.secure_channel(target, tls.credentials(), options=options)
        self._stub = inference_pb2_grpc.InferenceServiceStub(self._channel)
        self._fleet = inference_pb2_grpc.FleetServiceStub(self._channel)

    @classmethod
    def from_config(cls, uplink: UplinkConfig) -> CloudClient:
        return cls(uplink.address, uplink.api_key, uplink.timeout_s, ClientTls.from_config(uplink))

    async def __aenter__(self) -> CloudClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    def stream(
        self, request: GenerationRequest, timeout_s: float | None = None, message: pb.GenerateRequest | None = None
    ) -> grpc.aio.UnaryStreamCall:
        """The raw response stream (of `message`, the request's proto, when given: bytes already audited);
        `cancel()` on it (or its deadline) aborts the request in the cloud engine."""
        message = message if message is not None else request_to_proto(request)
        return self._stub.Generate(message, timeout=timeout_s or self.timeout_s, metadata=self._metadata)

    async def generate(self, request: GenerationRequest, timeout_s: float | None = None) -> GenerationResult:
        """Runs one request to completion. Raises grpc.aio.AioRpcError on failure."""
        assembler = StreamAssembler(time.perf_counter())
        async for message in self.stream(request, timeout_s):
            assembler.add(message)
            if assembler.result is not None:
                return assembler.result
        raise RuntimeError("cloud stream ended without a final message")

    async def model_info(self, timeout_s: float = 5.0) -> ModelInfo:
        info = await self._stub.GetModelInfo(pb.ModelInfoRequest(), timeout=timeout_s, metadata=self._metadata)
        return model_info_from_proto(info)

    async def upload_labels(self, batch: pb.LabelBatch, timeout_s: float = 30.0) -> pb.LabelAck:
        return await self._fleet.UploadLabels(batch, timeout=timeout_s, metadata=self._metadata)

    async def fleet_router(self, since_version: int, device: str, timeout_s: float = 60.0) -> pb.FleetRouter:
        request = pb.FleetRouterRequest(since_version=since_version, device=device)
        return await self._fleet.GetFleetRouter(request, timeout=timeout_s, metadata=self._metadata)

    async def server_status(self, timeout_s: float = 5.0) -> pb.ServerStatus:
        return await self._stub.GetServerStatus(pb.ServerStatusRequest(), timeout=timeout_s, metadata=self._metadata)


class StreamAssembler:
    """Builds a GenerationResult from Generate's messages; `add` returns each delta's text as it arrives."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.first_at: float | None = None
        self.text: list[str] = []
        self.tokens: list[TokenLogprob] = []
        self.result: GenerationResult | None = None

    def add(self, message: pb.GenerateResponse) -> str | None:
        if message.HasField("delta"):
            if self.first_at is None:
                self.first_at = time.perf_counter()
            self.text.append(message.delta.text)
            self.tokens.extend(tokens_from_proto(message.delta))
            return message.delta.text
        final = message.final
        done = time.perf_counter()
        self.result = GenerationResult(
            request_id=final.request_id,
            text="".join(self.text),
            tokens=tuple(self.tokens),
            finish_reason=FINISH_FROM_PB[final.finish_reason],
            model=final.model,
            prompt_tokens=final.usage.prompt_tokens,
            completion_tokens=final.usage.completion_tokens,
            timings=timings_from_proto(final.timings),
            cache=cache_from_proto(final.cache),
            client_latency_ms=(done - self.started) * 1000,
            client_ttft_ms=((self.first_at or done) - self.started) * 1000,
            replica=final.replica,
            verification=verification_from_proto(final),
        )
        return None
