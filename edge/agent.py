"""Builds the edge from config: local model, cache, router, uplink and the cascade over them.

Every resource is registered on an exit stack as soon as it exists, so `close()` (and a constructor that
fails half-way) releases all of them even when one of them fails to close.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from edge.cache.answer_cache import LayeredAnswerCache
from edge.cache.embeddings import AsyncEmbedder
from edge.cache.store import SqliteCache
from edge.cache.vector_index import VectorIndex
from edge.confidence.estimators import create_estimator
from edge.local.generator import LlamaGenerator
from edge.local.model import load_local_model
from edge.pipeline.cascade import Cascade, CascadeParts
from edge.pipeline.decision import NOMINAL_DEVICE, DeviceShift
from edge.routing.outcome_store import OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from edge.uplink.breaker import CircuitBreaker
from edge.uplink.client import CloudClient
from edge.uplink.uplink import CloudUplink
from shared.config import TandemConfig

log = logging.getLogger(__name__)


def cache_path(config: TandemConfig) -> Path:
    return config.data_dir / "edge" / "cache.sqlite"


def open_cache(config: TandemConfig) -> SqliteCache:
    return SqliteCache(cache_path(config), max_entries=config.edge.cache.max_entries)


class EdgeAgent:
    """Owns every resource of the edge: `async with EdgeAgent(config) as agent: await agent.cascade.answer(q)`."""

    def __init__(self, config: TandemConfig, device: Callable[[], DeviceShift] = lambda: NOMINAL_DEVICE) -> None:
        edge = config.edge
        self.config = config
        self._closers = contextlib.ExitStack()
        try:
            runner = load_local_model(edge.local)
            self._closers.callback(runner.close)
            self.generator = LlamaGenerator(runner, edge.local.max_local_queue)
            self.store = open_cache(config) if edge.cache.enabled else None
            if self.store is not None:
                self._closers.callback(self.store.close)
            self.outcomes = OutcomeStore(config.data_dir / "edge" / "outcomes.sqlite")
            self._closers.callback(self.outcomes.close)
            self.client = CloudClient.from_config(edge.uplink)
            self.breaker = CircuitBreaker(edge.uplink.breaker_failures, edge.uplink.breaker_reset_s)
            # One embedder serves the semantic cache, the router and feedback; none is built when all are off.
            self.embedder = None
            if (self.store is not None and edge.cache.semantic) or edge.routing.enabled:
                from edge.cache.embeddings import SentenceEmbedder

                self.embedder = AsyncEmbedder(SentenceEmbedder(edge.cache.embed_threads))
            self.cache = None
            if self.store is not None:
                index = VectorIndex(self.embedder.dim) if self.embedder and edge.cache.semantic else None
                self.cache = LayeredAnswerCache(self.store, index, edge.cache)
            self.router = KnnRoutePolicy(self.outcomes, edge.routing) if edge.routing.enabled else None
            parts = CascadeParts(
                generator=self.generator,
                estimator=create_estimator(edge.confidence.estimator, edge.confidence.quantile),
                uplink=CloudUplink(self.client, self.breaker),
                cache=self.cache,
                router=self.router,
                embedder=self.embedder,
            )
            self.cascade = Cascade(parts, edge, config.cost, device)
            self.style = self.cascade.style
        except BaseException:
            self._closers.close()
            raise

    async def __aenter__(self) -> EdgeAgent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self.client.close()
        finally:
            self._closers.close()
