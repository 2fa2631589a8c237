"""Semantic cache quality and speed on paraphrase/contrast sets generated from real data.

`python -m benchmarks.semantic_cache [--n 100]`: caches the canonical capital question of n countries
(countryinfo), then asks
- paraphrases of the same questions (other templates): a hit is right, a miss is a lost saving;
- contrasts, the same templates about countries that are not cached, and arithmetic with changed numbers:
  any hit is a false hit (a wrong answer served).
Prints hit rate, false-hit rate and lookup latency, for the guarded matcher and for similarity alone;
writes benchmarks/results/semantic_cache.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import RESULTS_DIR
from edge.cache.answer_cache import LayeredAnswerCache
from edge.cache.embeddings import AsyncEmbedder, SentenceEmbedder
from edge.cache.store import SqliteCache
from edge.cache.vector_index import VectorIndex
from edge.calibration.labeled import capitals
from edge.core.protocols import LazyVector
from edge.core.query import Query
from shared.config import CacheConfig

PARAPHRASES = (
    "what's {c}'s capital city?",
    "Which city is the capital of {c}?",
    "Name the capital of {c}.",
    "capital city of {c}?",
)


def question_sets(n: int, seed: int) -> tuple[list[str], list[tuple[str, int]], list[str]]:
    countries = sorted({item.question[len("What is the capital of ") : -1] for item in capitals()})
    random.Random(seed).shuffle(countries)
    cached, others = countries[:n], countries[n : 2 * n]
    canonical = [f"What is the capital of {c}?" for c in cached]
    paraphrases = [(t.format(c=c), i) for i, c in enumerate(cached) for t in PARAPHRASES]
    contrasts = [t.format(c=c) for c in others for t in ("What is the capital of {c}?", *PARAPHRASES)]
    rng = random.Random(seed + 1)
    sums: set[frozenset[int]] = set()
    while len(sums) < n:
        sums.add(frozenset((rng.randint(2, 60), rng.randint(2, 60))))
    for numbers in sorted(sums, key=sorted):
        a, b = (sorted(numbers) * 2)[:2]
        canonical.append(f"What is {a} plus {b}?")
        # a contrast changes one number, and never lands on another cached sum (or its commutation)
        shift = next(d for d in range(1, 100) if frozenset((a, b + d)) not in sums)
        contrasts.append(f"What is {a} plus {b + shift}?")
    return canonical, paraphrases, contrasts


async def evaluate(cache: LayeredAnswerCache, embedder: AsyncEmbedder, paraphrases, contrasts) -> dict:
    """Lookup latency includes embedding the question, as in the cascade (the product's own lookup)."""
    hits = right = 0
    latencies = []

    async def lookup(text: str):
        query = Query(question=text)
        return await cache.lookup(query, LazyVector(embedder, query.text))

    for text, index in paraphrases:
        started = time.perf_counter()
        hit = await lookup(text)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += hit is not None
        right += hit is not None and hit.answer == f"answer {index}"
    false_hits = 0
    for text in contrasts:
        false_hits += await lookup(text) is not None
    return {
        "hit_rate": hits / len(paraphrases),
        "right_hit_rate": right / len(paraphrases),
        "false_hit_rate": false_hits / len(contrasts),
        "lookup_p50_ms": statistics.median(latencies),
    }


async def run(n: int, seed: int, threshold: float) -> dict:
    embedder = AsyncEmbedder(SentenceEmbedder(threads=2))
    canonical, paraphrases, contrasts = question_sets(n, seed)
    config = CacheConfig(semantic_threshold=threshold)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteCache(Path(tmp) / "cache.sqlite", max_entries=10 * len(canonical))
        cache = LayeredAnswerCache(store, VectorIndex(embedder.dim), config)
        for i, q in enumerate(canonical):
            query = Query(question=q)
            await cache.store(
                query, answer=f"answer {i}", model="bench", ttl_s=3600, meta={}, vector=LazyVector(embedder, query.text)
            )
        guarded = await evaluate(cache, embedder, paraphrases, contrasts)
        # The same cache and threshold without the entity guard: what a plain semantic cache would serve.
        plain = LayeredAnswerCache(store, VectorIndex(embedder.dim), config, guard=lambda a, b: True)
        unguarded = await evaluate(plain, embedder, paraphrases, contrasts)
        store.close()
    return {
        "date": time.strftime("%Y-%m-%d"),
        "threshold": threshold,
        "cached": len(canonical),
        "paraphrases": len(paraphrases),
        "contrasts": len(contrasts),
        "guarded": guarded,
        "similarity_only": unguarded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100, help="countries cached (and as many arithmetic questions)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "semantic_cache.json")
    args = parser.parse_args()
    report = asyncio.run(run(args.n, args.seed, args.threshold))
    for name in ("guarded", "similarity_only"):
        r = report[name]
        print(
            f"{name:<16} hit rate {r['hit_rate']:.3f} (right answer {r['right_hit_rate']:.3f}), "
            f"false-hit rate {r['false_hit_rate']:.3f}, lookup p50 {r['lookup_p50_ms']:.1f} ms"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
