"""Edge decoding speed: Tandem's per-step log-prob path versus llama-cpp-python with logits_all=True.

`python -m benchmarks.edge_logprobs [--tokens 32] [--rounds 5]` generates the same greedy tokens both ways on
the default edge model and prints tokens/s and the ratio; writes benchmarks/results/edge_logprobs.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from llama_cpp import Llama

from benchmarks.harness import RESULTS_DIR
from edge.local.model import local_gguf
from shared.config import load_config
from shared.llama_runtime import LlamaCppRunner
from shared.prompts import qa_prompt
from shared.types import SamplingParams

QUESTIONS = ("Tell me about the history of Rome.", "Describe how a bicycle works.", "Write a poem about the sea.")


def tandem_path(model: Path, tokens: int, rounds: int, threads: int) -> tuple[float, list[list[float]]]:
    runner = LlamaCppRunner(model, n_ctx=1024, n_threads=threads)
    generated, seconds, logprobs = 0, 0.0, []
    for _ in range(rounds):
        for q in QUESTIONS:
            ids = runner.tokenize(qa_prompt(q))
            list(runner.stream(ids[:1], SamplingParams(max_tokens=1)))  # drop the KV prefix: same work as ref
            started = time.perf_counter()
            steps = list(runner.stream(ids, SamplingParams(max_tokens=tokens), top_n=1))
            seconds += time.perf_counter() - started
            generated += len(steps)
            logprobs.append([s.logprob for s in steps])
    runner.close()
    return generated / seconds, logprobs


def logits_all_path(model: Path, tokens: int, rounds: int, threads: int) -> tuple[float, list[list[float]]]:
    llm = Llama(model_path=str(model), n_ctx=1024, n_threads=threads, logits_all=True, verbose=False)
    generated, seconds, logprobs = 0, 0.0, []
    for _ in range(rounds):
        for q in QUESTIONS:
            llm.reset()
            started = time.perf_counter()
            out = llm.create_completion(qa_prompt(q), max_tokens=tokens, temperature=0.0, logprobs=1)
            seconds += time.perf_counter() - started
            lps = out["choices"][0]["logprobs"]["token_logprobs"]
            generated += len(lps)
            logprobs.append(lps)
    llm.close()
    return generated / seconds, logprobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "edge_logprobs.json")
    args = parser.parse_args()
    config = load_config()
    model = local_gguf(config.edge.local, config.data_dir)
    ours, our_lp = tandem_path(model, args.tokens, args.rounds, args.threads)
    ref, ref_lp = logits_all_path(model, args.tokens, args.rounds, args.threads)
    diffs = [abs(a - b) for x, y in zip(our_lp, ref_lp, strict=True) for a, b in zip(x, y, strict=False)]
    print(f"model {model.name}, {args.tokens} tokens x {len(QUESTIONS)} prompts x {args.rounds} rounds")
    print(f"tandem per-step log-probs : {ours:7.1f} tok/s")
    print(f"llama.cpp logits_all=True : {ref:7.1f} tok/s")
    print(f"speed-up                  : {ours / ref:7.2f}x   max |log-prob difference| {max(diffs):.2e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": time.strftime("%Y-%m-%d"),
                "model": model.name,
                "tokens": args.tokens,
                "tandem_tok_s": ours,
                "logits_all_tok_s": ref,
                "speedup": ours / ref,
                "max_abs_logprob_diff": float(max(diffs)),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
