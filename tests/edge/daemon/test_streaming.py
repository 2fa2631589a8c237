"""Streaming and cancellation through the real daemon, the real vLLM cloud and the real edge model.

Cloud answers reach the SSE client as the cloud sends them; a client that disconnects leaves nothing running:
0 unfinished requests in the cloud engine and 0 local generations, within 2 s (vLLM's test style).
"""

from __future__ import annotations

import json
import socket

import grpc
import httpx

from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc
from tests.settings import AUTH
from tests.waiting import eventually_sync

COUNTING = {"model": "tandem", "prompt": "Count to one hundred: 1, 2, 3, 4, 5,", "stop": ["###"]}


def chunk_texts(lines: list[str]) -> list[str]:
    """The text of every SSE content chunk among lines."""
    texts = []
    for line in lines:
        if line.startswith("data: ") and line != "data: [DONE]":
            event = json.loads(line[6:])
            if event["choices"] and event["choices"][0].get("text"):
                texts.append(event["choices"][0]["text"])
    return texts


def cloud_status(cloud_address: str) -> pb.ServerStatus:
    with grpc.insecure_channel(cloud_address) as channel:
        stub = inference_pb2_grpc.InferenceServiceStub(channel)
        return stub.GetServerStatus(pb.ServerStatusRequest(), metadata=AUTH, timeout=5)


def engine_requests(cloud_address: str) -> int:
    return cloud_status(cloud_address).engine_requests


def settles(probe, within_s: float = 2.0, what: str = "settled to 0") -> None:
    """probe() returns 0 within the bound."""
    eventually_sync(lambda: probe() == 0, within_s, what)


def test_cloud_answers_stream_as_they_arrive(daemon, vllm_cloud):
    # Causal, not timed: the first chunk reaches the app while the cloud engine is still generating the rest.
    body = {**COUNTING, "max_tokens": 200, "stream": True, "tandem": {"route": "cloud"}}
    with (
        httpx.Client(base_url=daemon.base_url, timeout=60) as http,
        http.stream("POST", "/v1/completions", json=body) as reply,
    ):
        assert reply.status_code == 200
        lines = reply.iter_lines()
        first = next(line for line in lines if chunk_texts([line]))
        in_flight = engine_requests(vllm_cloud.address)
        lines = [first, *lines]
    assert in_flight >= 1, "the first chunk arrived before the cloud had finished"
    chunks = chunk_texts(lines)
    assert len(chunks) >= 10, "one chunk per cloud delta, not one at the end"
    final = json.loads([line for line in lines if line.startswith("data: {")][-1][6:])
    assert final["tandem"]["served_by"] == "cloud" and not final["tandem"]["degraded"], final["tandem"]
    assert final["usage"]["completion_tokens"] >= 10, final
    assert final["tandem"]["timings"]["first_chunk_ms"] < final["tandem"]["timings"]["total_ms"]


def test_disconnect_during_a_cloud_stream_aborts_it_in_the_engine(daemon, vllm_cloud):
    body = {**COUNTING, "max_tokens": 250, "stream": True, "tandem": {"route": "cloud"}}
    served_before = cloud_status(vllm_cloud.address).served_requests
    with (
        httpx.Client(base_url=daemon.base_url, timeout=60) as http,
        http.stream("POST", "/v1/completions", json=body) as reply,
    ):
        # Held in a name: a line iterator dropped (and so closed) would close the response, hanging up early.
        lines = reply.iter_lines()
        first = next(line for line in lines if chunk_texts([line]))
        # Read while the stream is open: the engine is generating the other ~249 tokens.
        in_flight = engine_requests(vllm_cloud.address)
    # The client hung up after the first chunk, with the stream open.
    assert in_flight >= 1, f"the cloud had the request: {first}"
    settles(lambda: engine_requests(vllm_cloud.address), what="the cloud request was aborted")
    assert cloud_status(vllm_cloud.address).served_requests == served_before, "aborted, not run to the end"
    settles(lambda: daemon.healthz()["local_generations"])


def post_and_hold(daemon, body: dict) -> socket.socket:
    """Sends a request on a raw connection and leaves it open: closing the socket is the app going away."""
    payload = json.dumps(body).encode()
    head = (
        f"POST /v1/completions HTTP/1.1\r\nHost: {daemon.address}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    sock = socket.create_connection((daemon.host, daemon.port))
    sock.sendall(head.encode() + payload)
    return sock


def test_disconnect_during_a_local_generation_stops_it(daemon):
    for stream in (True, False):
        body = {**COUNTING, "max_tokens": 1500, "stream": stream, "tandem": {"route": "edge"}}
        settles(lambda: daemon.healthz()["local_generations"], 30.0, "nothing else runs locally")
        sock = post_and_hold(daemon, body)
        settles(lambda: 1 - daemon.healthz()["local_generations"], 5.0, "the local generation started")
        sock.close()
        settles(lambda: daemon.healthz()["local_generations"], what=f"stream={stream}: generation stopped")
