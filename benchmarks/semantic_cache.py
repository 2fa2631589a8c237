"""Semantic cache: false hits per contrast class, paraphrase hits, what audits learn, and lookup latency.

`python -m benchmarks.semantic_cache [--n 20] [--entries 10000]`, with the real ONNX embedder and SQLite cache:
1. Classes (`benchmarks.cache_pairs`: negation, antonym prefix, direction, comparative, swapped arguments,
   superlative, ordinal, operand order, operator, reversed conversion, unit, lower-case noun, quantifier, entity,
   number; filled from real data): every cached question is stored, then every contrast (any hit is a wrong answer
   served) and every paraphrase (a hit with the cached answer is a saving) is asked, for three matchers: the
   product's guard (`edge.cache.contrasts`), the entity guard alone (the guard before it) and similarity alone.
2. Audits: a stream of the paraphrases and contrasts, each asked `--passes` times in random order, semantic hits
   audited at the configured rate with their true answer through the cache's own `audited` (a wrong hit
   tightens its entry and caches the asked question's answer; the threshold rises until the audited error is
   below `--max-error`): false-hit and hit rates over the stream and per window, with audits and (similarity
   alone) without, and the error bound the cache reports.
3. Latency: lookups in a cache of `--entries` questions, the search alone (vector given) and with embedding.
Writes benchmarks/results/semantic_cache.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from benchmarks.cache_pairs import Pair, pairs
from edge.cache.answer_cache import LayeredAnswerCache
from edge.cache.contrasts import same_question
from edge.cache.embeddings import AsyncEmbedder, SentenceEmbedder
from edge.cache.entities import same_entities
from edge.cache.store import SqliteCache
from edge.cache.vector_index import VectorIndex
from edge.core.protocols import LazyVector
from edge.core.query import Query
from shared.config import CacheConfig
from shared.types import CacheHint, FinishReason, GenerationResult, ServerTimings

RESULTS = Path(__file__).parent / "results"
WINDOW = 200  # asks per point of the audit curve
MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "guarded": same_question,
    "entities_only": same_entities,
    "similarity_only": lambda a, b: True,
}


class Vectors:
    """Every question embedded once (the matchers and rounds share them)."""

    def __init__(self, embedder: AsyncEmbedder) -> None:
        self.embedder = embedder
        self.known: dict[str, np.ndarray] = {}

    async def add(self, texts: list[str]) -> None:
        todo = [t for t in dict.fromkeys(texts) if t not in self.known]
        for start in range(0, len(todo), 64):
            chunk = todo[start : start + 64]
            self.known.update(zip(chunk, await self.embedder.embed_many(chunk), strict=True))

    def of(self, text: str) -> LazyVector:
        return LazyVector.of(self.known[text])


async def filled(path: Path, vectors: Vectors, cached: list[str], config: CacheConfig, guard) -> LayeredAnswerCache:
    cache = LayeredAnswerCache(SqliteCache(path, max_entries=len(cached) + 10_000), VectorIndex(384), config, guard)
    for i, text in enumerate(cached):
        await cache.store(
            Query(question=text), answer=f"A{i}x", model="bench", ttl_s=3600, meta={}, vector=vectors.of(text)
        )
    return cache


async def classes(tmp: Path, vectors: Vectors, items: list[Pair], config: CacheConfig) -> dict:
    report: dict = {}
    for name, guard in MATCHERS.items():
        cache = await filled(tmp / f"{name}.sqlite", vectors, [p.cached for p in items], config, guard)
        rows: dict[str, dict[str, int]] = {}
        for i, pair in enumerate(items):
            row = rows.setdefault(pair.kind, {"pairs": 0, "false_hits": 0, "paraphrase_hits": 0})
            row["pairs"] += 1
            row["false_hits"] += (
                await cache.lookup(Query(question=pair.contrast), vectors.of(pair.contrast)) is not None
            )
            hit = await cache.lookup(Query(question=pair.paraphrase), vectors.of(pair.paraphrase))
            row["paraphrase_hits"] += hit is not None and hit.answer == f"A{i}x"
        cache.exact.close()
        total = {k: sum(r[k] for r in rows.values()) for k in ("pairs", "false_hits", "paraphrase_hits")}
        report[name] = {
            "per_class": rows,
            "false_hit_rate": total["false_hits"] / total["pairs"],
            "paraphrase_hit_rate": total["paraphrase_hits"] / total["pairs"],
        }
    return report


def fresh(answer: str) -> GenerationResult:
    """The cloud's answer to an audited question: its true answer in this benchmark."""
    return GenerationResult(
        "audit", answer, (), FinishReason.STOP, "bench", 1, 1, ServerTimings(0, 0, 0), CacheHint(True, 3600)
    )


async def audits(tmp: Path, vectors: Vectors, items: list[Pair], config: CacheConfig, passes: int, seed: int) -> dict:
    asks = [(p.contrast, f"C{i}x") for i, p in enumerate(items)]
    asks += [(p.paraphrase, f"A{i}x") for i, p in enumerate(items)]
    stream = asks * passes
    random.Random(seed).shuffle(stream)
    report: dict = {}
    for name, rate in (
        ("guarded", config.audit_rate),
        ("similarity_only", 0.0),
        ("similarity_only", config.audit_rate),
    ):
        rng = random.Random(seed)
        path = tmp / f"audit-{name}-{rate}.sqlite"
        cache = await filled(path, vectors, [p.cached for p in items], config, MATCHERS[name])
        curve, wrong, hits = [], [], []
        for text, truth in stream:
            hit = await cache.lookup(Query(question=text), vectors.of(text))
            hits.append(hit is not None)
            wrong.append(hit is not None and hit.answer != truth)
            if hit is not None and hit.similarity is not None and rng.random() < rate:
                await cache.audited(Query(question=text), hit, fresh(truth), vectors.of(text))
            if len(hits) % WINDOW == 0:
                point = {"asked": len(hits), "audited": cache.bound().audited, "threshold": cache.bound().threshold}
                curve.append(point | {"false_hit_rate": np.mean(wrong[-WINDOW:]), "hit_rate": np.mean(hits[-WINDOW:])})
        summary = {"false_hit_rate": float(np.mean(wrong)), "hit_rate": float(np.mean(hits))}
        report[f"{name}, audits {rate:g}"] = summary | {"curve": curve, "bound": asdict(cache.bound())}
        cache.exact.close()
    return report


async def latency(tmp: Path, embedder: AsyncEmbedder, entries: int, asks: int) -> dict:
    """A cache of `entries` arithmetic questions; as many lookups of paraphrases of cached ones (hits: each also an
    LRU touch written to SQLite) as of questions nobody cached (misses), in random order."""
    vectors = Vectors(embedder)
    side = int(np.ceil(np.sqrt(entries)))
    cached = [f"What is {a} plus {b}?" for a in range(side) for b in range(side)][:entries]
    rng = random.Random(1)
    asked = [f"what's {a} + {b}?" for a, b in (divmod(rng.randrange(len(cached)), side) for _ in range(asks // 2))]
    asked += [f"How many legs does creature number {i} have?" for i in range(asks - len(asked))]
    rng.shuffle(asked)
    await vectors.add(cached + asked)
    cache = await filled(tmp / "latency.sqlite", vectors, cached, CacheConfig(), same_question)
    search: dict[bool, list[float]] = {True: [], False: []}  # by whether the lookup hit
    whole = []
    # Apart, not interleaved: the embedder's threads spin for a while after each run and would tax the next search.
    for text in asked:
        started = time.perf_counter()
        hit = await cache.lookup(Query(question=text), vectors.of(text))
        search[hit is not None].append((time.perf_counter() - started) * 1000)
    for text in asked:
        started = time.perf_counter()
        await cache.lookup(Query(question=text), LazyVector(embedder, text))
        whole.append((time.perf_counter() - started) * 1000)
    cache.exact.close()
    pct = lambda xs, q: float(np.percentile(xs, q)) if xs else None  # noqa: E731
    every = search[True] + search[False]
    return {
        "entries": len(cached),
        "lookups": asks,
        "hits": len(search[True]),
        "search_p50_ms": pct(every, 50),
        "search_p99_ms": pct(every, 99),
        "search_hit_p99_ms": pct(search[True], 99),
        "search_miss_p99_ms": pct(search[False], 99),
        "with_embedding_p50_ms": pct(whole, 50),
        "with_embedding_p99_ms": pct(whole, 99),
    }


async def run(args: argparse.Namespace) -> dict:
    embedder = AsyncEmbedder(SentenceEmbedder(threads=2))
    items = pairs(args.n, args.seed)
    vectors = Vectors(embedder)
    await vectors.add([t for p in items for t in (p.cached, p.contrast, p.paraphrase)])
    config = CacheConfig(semantic_threshold=args.threshold, max_error=args.max_error, audit_rate=args.audit_rate)
    with tempfile.TemporaryDirectory() as tmp:
        return {
            "date": time.strftime("%Y-%m-%d"),
            "threshold": args.threshold,
            "max_error": args.max_error,
            "pairs": len(items),
            "classes": await classes(Path(tmp), vectors, items, config),
            "audits": await audits(Path(tmp), vectors, items, config, args.passes, args.seed),
            "latency": await latency(Path(tmp), embedder, args.entries, args.lookups),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="instances of each pair template")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=CacheConfig().semantic_threshold)
    parser.add_argument("--max-error", type=float, default=CacheConfig().max_error)
    parser.add_argument("--audit-rate", type=float, default=CacheConfig().audit_rate, help="of semantic hits")
    parser.add_argument("--passes", type=int, default=4, help="times each question comes in the audit stream")
    parser.add_argument("--entries", type=int, default=10_000, help="cached questions for the latency part")
    parser.add_argument("--lookups", type=int, default=2000, help="half hits, half misses")
    parser.add_argument("--out", type=Path, default=RESULTS / "semantic_cache.json")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    for name, r in report["classes"].items():
        print(f"{name:<16} false hits {r['false_hit_rate']:.3f}, paraphrase hits {r['paraphrase_hit_rate']:.3f}")
    kinds = report["classes"]["guarded"]["per_class"]
    print(
        f"{'class':<20}{'pairs':>6}" + "".join(f"{m[:14]:>16}" for m in MATCHERS) + "   (false hits / paraphrase hits)"
    )
    for kind, row in kinds.items():
        cells = "".join(
            f"{report['classes'][m]['per_class'][kind]['false_hits']:>8}/{report['classes'][m]['per_class'][kind]['paraphrase_hits']:<7}"
            for m in MATCHERS
        )
        print(f"{kind:<20}{row['pairs']:>6}{cells}")
    for name, r in report["audits"].items():
        bound = r["bound"]
        print(
            f"stream, {name}: false hits {r['false_hit_rate']:.3f}, hits {r['hit_rate']:.3f}; last window "
            f"{r['curve'][-1]['false_hit_rate']:.3f} / {r['curve'][-1]['hit_rate']:.3f}; {bound['audited']} audited, "
            f"{bound['wrong']} wrong; threshold {bound['threshold']:.3f}; error bound {bound['error_bound']}"
        )
    lat = report["latency"]
    print(
        f"lookup at {lat['entries']} entries ({lat['hits']} hits of {lat['lookups']}): search p50 "
        f"{lat['search_p50_ms']:.2f} ms, p99 {lat['search_p99_ms']:.2f} ms (hits {lat['search_hit_p99_ms']:.2f}, "
        f"misses {lat['search_miss_p99_ms']:.2f}); with embedding p50 {lat['with_embedding_p50_ms']:.2f} ms, "
        f"p99 {lat['with_embedding_p99_ms']:.2f} ms"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
