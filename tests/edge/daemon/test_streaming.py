"""Streaming and cancellation through the real daemon, the real vLLM cloud and the real edge model.

Cloud answers reach the SSE client as the cloud sends them; a client that disconnects leaves nothing running:
0 unfinished requests in the cloud engine and 0 local generations, within 2 s (vLLM's test style).
"""

from __future__ import annotations

import json
import socket
import threading
import time

import grpc
import httpx

from shared.rpc import inference_pb2 as pb
from shared.rpc import inference_pb2_grpc
from tests.settings import AUTH

COUNTING = {"model": "tandem", "prompt": "Count to one hundred: 1, 2, 3, 4, 5,", "stop": ["###"]}


def read_timed(reply: httpx.Response) -> list[tuple[float, str]]:
    """Every SSE line with the time it arrived."""
    started = time.perf_counter()
    return [(time.perf_counter() - started, line) for line in reply.iter_lines()]


def content_times(timed: list[tuple[float, str]]) -> list[tuple[float, str]]:
    times = []
    for at, line in timed:
        if line.startswith("data: ") and line != "data: [DONE]":
            event = json.loads(line[6:])
            if event["choices"] and event["choices"][0].get("text"):
                times.append((at, event["choices"][0]["text"]))
    return times


def cloud_status(cloud_address: str) -> pb.ServerStatus:
    with grpc.insecure_channel(cloud_address) as channel:
        stub = inference_pb2_grpc.InferenceServiceStub(channel)
        return stub.GetServerStatus(pb.ServerStatusRequest(), metadata=AUTH, timeout=5)


def engine_requests(cloud_address: str) -> int:
    return cloud_status(cloud_address).engine_requests


class PeakWatcher(threading.Thread):
    """Polls the cloud engine in the background and keeps the most requests it ever held at once."""

    def __init__(self, cloud_address: str) -> None:
        super().__init__(daemon=True)
        self.address, self.peak, self.stop = cloud_address, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, engine_requests(self.address))
            time.sleep(0.02)


def settles(probe, deadline_s: float = 2.0) -> bool:
    """True once probe() returns 0 within the deadline."""
    until = time.perf_counter() + deadline_s
    while time.perf_counter() < until:
        if probe() == 0:
            return True
        time.sleep(0.05)
    return probe() == 0


def test_cloud_answers_stream_as_they_arrive(daemon):
    body = {**COUNTING, "max_tokens": 60, "stream": True, "tandem": {"route": "cloud"}}
    with (
        httpx.Client(base_url=daemon.base_url, timeout=60) as http,
        http.stream("POST", "/v1/completions", json=body) as reply,
    ):
        assert reply.status_code == 200
        timed = read_timed(reply)
    lines = [line for _, line in timed]
    chunks = content_times(timed)
    assert len(chunks) >= 10, "one chunk per cloud delta, not one at the end"
    assert chunks[-1][0] - chunks[0][0] > 0.2, "the chunks arrived spread over the generation"
    final = json.loads([line for line in lines if line.startswith("data: {")][-1][6:])
    assert final["tandem"]["served_by"] == "cloud" and final["usage"]["completion_tokens"] >= 10
    assert final["tandem"]["timings"]["first_chunk_ms"] < final["tandem"]["timings"]["total_ms"]


def test_disconnect_during_a_cloud_stream_aborts_it_in_the_engine(daemon, vllm_cloud):
    body = {**COUNTING, "max_tokens": 250, "stream": True, "tandem": {"route": "cloud"}}
    served_before = cloud_status(vllm_cloud.address).served_requests
    watcher = PeakWatcher(vllm_cloud.address)
    watcher.start()
    with (
        httpx.Client(base_url=daemon.base_url, timeout=60) as http,
        http.stream("POST", "/v1/completions", json=body) as reply,
    ):
        first = next(line for line in reply.iter_lines() if line.startswith("data: "))
    # The client hung up after the first chunk, with the stream open.
    assert settles(lambda: engine_requests(vllm_cloud.address)), "the cloud request was aborted"
    watcher.stop.set()
    watcher.join()
    assert watcher.peak >= 1, f"the cloud had the request: {first}"
    assert cloud_status(vllm_cloud.address).served_requests == served_before, "aborted, not run to the end"
    assert settles(lambda: daemon.healthz()["local_generations"])


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
        assert settles(lambda: daemon.healthz()["local_generations"], 30.0), "nothing else runs locally"
        sock = post_and_hold(daemon, body)
        assert settles(lambda: 1 - daemon.healthz()["local_generations"], 5.0), "the local generation started"
        sock.close()
        assert settles(lambda: daemon.healthz()["local_generations"]), f"stream={stream}: generation stopped"
