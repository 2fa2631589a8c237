"""A closed-loop streaming load generator that runs in its own processes, so the client's CPU work is not
counted against the server's event loop, and one client shape per protocol: Tandem's gRPC, vLLM's OpenAI
HTTP server and vLLM's gRPC server.

Each worker process keeps its share of the streams busy for a number of rounds (a round: every stream sends
one request and waits for its end); throughput is all tokens over the span from the first request sent to the
last token received, across processes.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import statistics
import time
from dataclasses import dataclass

import grpc
import httpx

from benchmarks.stats import percentile


@dataclass(frozen=True)
class Target:
    """Where to send and what: `kind` is tandem, vllm-openai or vllm-grpc."""

    kind: str
    address: str  # host:port
    prompt: str
    prompt_ids: tuple[int, ...] = ()  # vllm-grpc takes token ids
    model: str = ""  # vllm-openai's model name
    api_key: str = ""
    expert: str = ""  # tandem: a memory expert to name


@dataclass(frozen=True)
class StreamTiming:
    started: float  # wall clock (time.time), comparable across processes
    ttft_ms: float
    total_ms: float
    tokens: int


async def _tandem(target: Target, tokens: int, stub, i: int) -> StreamTiming:
    from shared.rpc import inference_pb2 as pb

    request = pb.GenerateRequest(
        request_id=f"lg-{i}",
        prompt=target.prompt,
        sampling=pb.SamplingParams(max_tokens=tokens, temperature=0.0),
        expert=target.expert,
    )
    metadata = (("authorization", f"Bearer {target.api_key}"),) if target.api_key else ()
    return await _timed(stub.Generate(request, metadata=metadata, timeout=600), lambda m: m.HasField("delta"),
                        lambda m, n: m.final.usage.completion_tokens if m.HasField("final") else n)  # fmt: skip


async def _vllm_grpc(target: Target, tokens: int, stub, i: int) -> StreamTiming:
    from smg_grpc_proto import vllm_engine_pb2 as vpb

    request = vpb.GenerateRequest(
        request_id=f"lg-{i}-{time.monotonic_ns()}",
        tokenized=vpb.TokenizedInput(original_text=target.prompt, input_ids=list(target.prompt_ids)),
        sampling_params=vpb.SamplingParams(temperature=0.0, max_tokens=tokens, skip_special_tokens=True),
        stream=True,
    )
    # Its streamed chunks carry token ids; the closing message repeats nothing countable here.
    return await _timed(stub.Generate(request, timeout=600), lambda m: m.HasField("chunk"),
                        lambda m, n: n + len(m.chunk.token_ids))  # fmt: skip


async def _timed(call, is_token, counted) -> StreamTiming:
    """`counted(message, tokens so far)` gives the tokens so far after `message`."""
    wall, started = time.time(), time.perf_counter()
    first = None
    count = 0
    async for message in call:
        if first is None and is_token(message):
            first = time.perf_counter()
        count = counted(message, count)
    done = time.perf_counter()
    return StreamTiming(wall, ((first or done) - started) * 1000, (done - started) * 1000, count)


async def _vllm_openai(target: Target, tokens: int, http: httpx.AsyncClient, i: int) -> StreamTiming:
    body = {
        "model": target.model,
        "prompt": target.prompt,
        "max_tokens": tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    wall, started = time.time(), time.perf_counter()
    first, count = None, 0
    async with http.stream("POST", "/v1/completions", json=body) as reply:
        async for line in reply.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if first is None and event.get("choices") and event["choices"][0].get("text"):
                first = time.perf_counter()
            if event.get("usage"):
                count = event["usage"]["completion_tokens"]
    done = time.perf_counter()
    return StreamTiming(wall, ((first or done) - started) * 1000, (done - started) * 1000, count)


async def _worker_rounds(target: Target, streams: int, tokens: int, rounds: int, offset: int) -> list[StreamTiming]:
    timings: list[StreamTiming] = []
    if target.kind == "vllm-openai":
        limits = httpx.Limits(max_connections=streams + 4)
        async with httpx.AsyncClient(base_url=f"http://{target.address}", timeout=600, limits=limits) as http:
            for r in range(rounds):
                timings += await asyncio.gather(
                    *(_vllm_openai(target, tokens, http, offset + r * 1000 + i) for i in range(streams))
                )
        return timings
    one = _tandem if target.kind == "tandem" else _vllm_grpc
    async with grpc.aio.insecure_channel(target.address) as channel:
        if target.kind == "tandem":
            from shared.rpc import inference_pb2_grpc

            stub = inference_pb2_grpc.InferenceServiceStub(channel)
        else:
            from smg_grpc_proto import vllm_engine_pb2_grpc

            stub = vllm_engine_pb2_grpc.VllmEngineStub(channel)
        for r in range(rounds):
            timings += await asyncio.gather(*(one(target, tokens, stub, offset + r * 1000 + i) for i in range(streams)))
    return timings


def _worker(target: Target, streams: int, tokens: int, rounds: int, offset: int, start_at: float, out) -> None:
    time.sleep(max(0.0, start_at - time.time()))  # every process starts its first round together
    out.put(asyncio.run(_worker_rounds(target, streams, tokens, rounds, offset)))


def collect(target: Target, concurrency: int, tokens: int, rounds: int, processes: int = 1) -> list[StreamTiming]:
    """`concurrency` streams spread over up to `processes` client processes, `rounds` rounds each."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    n = max(1, min(processes, concurrency))
    shares = [concurrency // n + (1 if p < concurrency % n else 0) for p in range(n)]
    start_at = time.time() + 3.0  # spawned interpreters need a moment to import
    procs = [
        ctx.Process(target=_worker, args=(target, share, tokens, rounds, p * 100_000, start_at, out))
        for p, share in enumerate(shares)
    ]
    for p in procs:
        p.start()
    timings: list[StreamTiming] = [t for _ in procs for t in out.get(timeout=1800)]
    for p in procs:
        p.join()
    return timings


def summarize(groups: list[list[StreamTiming]], concurrency: int) -> dict:
    """Rates over the time the groups ran (each from its first request to its last token), not the gaps."""
    timings = [t for g in groups for t in g]
    span = sum(max(t.started + t.total_ms / 1000 for t in g) - min(t.started for t in g) for g in groups)
    return {
        "concurrency": concurrency,
        "requests": len(timings),
        "tokens": sum(t.tokens for t in timings),
        "tok_s": sum(t.tokens for t in timings) / span,
        "req_s": len(timings) / span,
        "p50_ttft_ms": statistics.median(t.ttft_ms for t in timings),
        "p50_ms": statistics.median(t.total_ms for t in timings),
        "p99_ms": percentile((t.total_ms for t in timings), 99),
        "max_ms": max(t.total_ms for t in timings),
    }


def run_load(target: Target, concurrency: int, tokens: int, rounds: int, processes: int = 1) -> dict:
    return summarize([collect(target, concurrency, tokens, rounds, processes)], concurrency)


def run_interleaved(targets: dict[str, Target], concurrency: int, tokens: int, rounds: int) -> dict[str, dict]:
    """Round by round, alternating targets (first one first on even rounds, last on odd), so a machine whose
    speed drifts during the run (shared VMs do) skews every target alike."""
    groups: dict[str, list] = {name: [] for name in targets}
    for r in range(rounds):
        order = list(targets) if r % 2 == 0 else list(reversed(targets))
        for name in order:
            groups[name].append(collect(targets[name], concurrency, tokens, 1))
    return {name: summarize(g, concurrency) for name, g in groups.items()}
