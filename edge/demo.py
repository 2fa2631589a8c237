"""`make demo`: start the cloud service on the default model and ask it a few real questions.

Prints each answer with its timings, then stops the service it started.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from cloud.launcher import CloudProcess
from edge.cloud_client import CloudClient
from shared.types import ChatMessage, GenerationRequest, SamplingParams

FEW_SHOT = "Q: What is the capital of Italy?\nA: Rome\nQ: What is the capital of Japan?\nA: Tokyo\n"
QUESTIONS = (
    "What is the capital of France?",
    "What is the capital of Peru?",
    "What is the capital of Kenya?",
    "What is the capital of Canada?",
)


def _request(i: int, question: str) -> GenerationRequest:
    sampling = SamplingParams(max_tokens=16, stop=("\n",))
    if i % 2:  # alternate prompt and chat requests to show both inputs
        return GenerationRequest(f"demo-{i}", sampling, messages=(ChatMessage("user", question),), top_logprobs=1)
    return GenerationRequest(f"demo-{i}", sampling, prompt=f"{FEW_SHOT}Q: {question}\nA:", top_logprobs=1)


async def ask_all(address: str) -> None:
    async with CloudClient(address, timeout_s=60) as client:
        info = await client.model_info()
        print(f"cloud model: {info.model_id} on {info.backend}, context {info.max_context_tokens} tokens\n")
        for i, question in enumerate(QUESTIONS):
            result = await client.generate(_request(i, question))
            mean_lp = sum(t.logprob for t in result.tokens) / max(len(result.tokens), 1)
            tok_s = result.completion_tokens / max(result.client_latency_ms / 1000, 1e-9)
            print(f"Q: {question}\nA: {result.text.strip()}")
            print(
                f"   ttft {result.client_ttft_ms:.0f} ms, total {result.client_latency_ms:.0f} ms, "
                f"{result.completion_tokens} tokens ({tok_s:.0f} tok/s), mean log-prob {mean_lp:.2f}, "
                f"finish {result.finish_reason.value}\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="vllm", choices=["vllm", "llamacpp"])
    args = parser.parse_args()
    print(f"starting the cloud service ({args.backend}); vLLM on CPU takes a minute or two ...", flush=True)
    started = time.perf_counter()
    with CloudProcess(["--backend", args.backend, "--log-level", "WARNING"]) as cloud:
        print(f"cloud service ready at {cloud.address} in {time.perf_counter() - started:.0f} s\n", flush=True)
        asyncio.run(ask_all(cloud.address))
    print("cloud service stopped")


if __name__ == "__main__":
    main()
