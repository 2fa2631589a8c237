"""`make demo`: the whole cascade on the default models.

Starts the cloud service (vLLM, Gemma-3-270M), builds the edge agent (llama.cpp, SmolLM2-135M) against it,
asks a handful of real questions, repeats one that escalated to show the cache, then stops the service.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from cloud.launcher import CloudProcess
from edge.agent import EdgeAgent
from edge.cascade import Query
from shared.config import load_config

QUESTIONS = (
    "What is the capital of France?",
    "What is the capital of Germany?",
    "What is the capital of Burkina Faso?",
    "What is the capital of Peru?",
    "What is the capital of Kenya?",
)


async def run_cascade(address: str, data_dir: Path) -> None:
    config = load_config(overrides={"data_dir": data_dir, "edge": {"cloud_address": address}})
    async with EdgeAgent(config) as agent:
        info = await agent.client.model_info()
        print(f"edge model: {agent.cascade.edge_model} (llama.cpp)   cloud model: {info.model_id} ({info.backend})")
        print(f"policy: {config.edge.estimator} >= {config.edge.threshold} answers locally\n")
        escalated: list[str] = []
        for question in QUESTIONS:
            result = await agent.cascade.answer(Query(question=question))
            print(f"Q: {question}\nA: {result.answer}\n   {result.provenance()}\n")
            if result.served_by == "cloud":
                escalated.append(question)
        if escalated:
            print("Asking an escalated question again:")
            result = await agent.cascade.answer(Query(question=escalated[0]))
            print(f"Q: {escalated[0]}\nA: {result.answer}\n   {result.provenance()}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="vllm", choices=["vllm", "llamacpp"], help="cloud engine")
    args = parser.parse_args()
    print(f"starting the cloud service ({args.backend}); vLLM on CPU takes a minute or two ...", flush=True)
    started = time.perf_counter()
    with CloudProcess(["--backend", args.backend, "--log-level", "WARNING"]) as cloud:
        print(f"cloud service ready at {cloud.address} in {time.perf_counter() - started:.0f} s\n", flush=True)
        with tempfile.TemporaryDirectory(prefix="tandem-demo-") as data_dir:
            asyncio.run(run_cascade(cloud.address, Path(data_dir)))
    print("cloud service stopped")


if __name__ == "__main__":
    main()
