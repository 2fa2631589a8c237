"""The semantic layer over the answer cache: embeds questions once, finds guarded paraphrase hits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from edge.cache import CachedAnswer, CacheStore
from edge.embeddings import SentenceEmbedder
from edge.semantic import VectorIndex, same_entities


class SemanticMatcher:
    def __init__(
        self,
        cache: CacheStore,
        embedder: SentenceEmbedder,
        threshold: float,
        guard: Callable[[str, str], bool] = same_entities,
    ) -> None:
        self.cache = cache
        self.guard = guard
        self.embedder = embedder
        self.threshold = threshold
        self.index = VectorIndex(embedder.dim)
        for key, vector in cache.embeddings():
            self.index.add(key, vector)

    async def embed(self, text: str) -> np.ndarray:
        return await asyncio.to_thread(self.embedder.embed_one, text)

    async def lookup(self, text: str, params_key: str) -> tuple[CachedAnswer | None, float | None]:
        """The nearest cached answer over the threshold whose question names the same entities and numbers."""
        if not len(self.index):
            return None, None
        vector = await self.embed(text)
        for key, similarity in self.index.search(vector):
            if similarity < self.threshold:
                break
            hit = await asyncio.to_thread(self.cache.get, key)  # None once expired or evicted
            if hit is None or hit.meta.get("params") != params_key:
                continue
            if self.guard(text, hit.meta.get("question", hit.question)):
                return hit, similarity
        return None, None

    async def remember(self, key: str, text: str) -> np.ndarray:
        """Embeds a question about to be cached and indexes it; returns the vector to store with it."""
        vector = await self.embed(text)
        self.index.add(key, vector)
        return vector
