"""The semantic layer over the answer cache: guarded paraphrase hits from a vector index of cached questions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from edge.cache import CachedAnswer, CacheStore
from edge.embeddings import SentenceEmbedder
from edge.semantic import VectorIndex, same_entities


class AsyncEmbedder:
    """Embeds off the event loop; the cascade embeds each query at most once."""

    def __init__(self, embedder: SentenceEmbedder) -> None:
        self.embedder = embedder
        self.dim = embedder.dim

    async def embed(self, text: str) -> np.ndarray:
        return await asyncio.to_thread(self.embedder.embed_one, text)


class SemanticMatcher:
    def __init__(
        self, cache: CacheStore, dim: int, threshold: float, guard: Callable[[str, str], bool] = same_entities
    ) -> None:
        self.cache = cache
        self.threshold = threshold
        self.guard = guard
        self.index = VectorIndex(dim)
        for key, vector in cache.embeddings():
            self.index.add(key, vector)

    async def lookup(self, text: str, params_key: str, vector: np.ndarray) -> tuple[CachedAnswer | None, float | None]:
        """The nearest cached answer over the threshold whose question names the same entities and numbers."""
        for key, similarity in self.index.search(vector):
            if similarity < self.threshold:
                break
            hit = await asyncio.to_thread(self.cache.get, key)  # None once expired or evicted
            if hit is None or hit.meta.get("params") != params_key:
                continue
            if self.guard(text, hit.meta.get("question", hit.question)):
                return hit, similarity
        return None, None

    async def neighbours(self, vector: np.ndarray, k: int, min_similarity: float) -> list[tuple[str, str]]:
        """(question, answer) of the k closest cached answers at least `min_similarity` close, closest last."""
        pairs = []
        for key, similarity in self.index.search(vector, k):
            if similarity < min_similarity:
                break
            cached = await asyncio.to_thread(self.cache.peek, key)
            if cached is not None:
                pairs.append((cached.meta.get("question", cached.question), cached.answer))
        return pairs[::-1]

    def remember(self, key: str, vector: np.ndarray) -> None:
        self.index.add(key, vector)
