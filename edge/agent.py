"""Builds the edge agent from config: local model, estimator, cache, cloud client, cascade."""

from __future__ import annotations

from edge.cache import SqliteCache
from edge.cascade import Cascade
from edge.circuit_breaker import CircuitBreaker
from edge.cloud_client import CloudClient
from edge.confidence import create_estimator
from edge.escalation import CloudEscalator
from edge.local_model import load_local_model
from edge.outcome_store import OutcomeStore
from edge.routing import RouterGate
from edge.semantic_cache import AsyncEmbedder, SemanticMatcher
from shared.config import TandemConfig


def cache_path(config: TandemConfig):
    return config.data_dir / "edge" / "cache.sqlite"


def open_cache(config: TandemConfig) -> SqliteCache:
    return SqliteCache(cache_path(config), max_entries=config.edge.cache_max_entries)


class EdgeAgent:
    """Owns every resource of the edge; `async with EdgeAgent(config) as agent: await agent.cascade.answer(q)`."""

    def __init__(self, config: TandemConfig) -> None:
        edge = config.edge
        self.config = config
        self.runner = load_local_model(edge)
        self.cache = open_cache(config) if edge.cache_enabled else None
        self.client = CloudClient(edge.cloud_address, api_key=edge.cloud_api_key, timeout_s=edge.cloud_timeout_s)
        self.breaker = CircuitBreaker(edge.breaker_failures, edge.breaker_reset_s)
        self.outcomes = OutcomeStore(config.data_dir / "edge" / "outcomes.sqlite")
        # One embedder serves the semantic cache and the router; neither is built when both are off.
        wants_semantic = self.cache is not None and edge.semantic_cache
        self.embedder = None
        if wants_semantic or edge.router_enabled:
            from edge.embeddings import SentenceEmbedder

            self.embedder = AsyncEmbedder(SentenceEmbedder(edge.embed_threads))
        self.semantic = (
            SemanticMatcher(self.cache, self.embedder.dim, edge.semantic_threshold) if wants_semantic else None
        )
        self.routing = RouterGate(self.outcomes, edge) if edge.router_enabled else None
        self.cascade = Cascade(
            runner=self.runner,
            estimator=create_estimator(edge.estimator, edge.quantile),
            escalator=CloudEscalator(self.client, self.breaker, edge.cloud_timeout_s),
            cache=self.cache,
            config=edge,
            cost=config.cost,
            embedder=self.embedder,
            semantic=self.semantic,
            routing=self.routing,
        )

    async def __aenter__(self) -> EdgeAgent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.client.close()
        if self.cache is not None:
            self.cache.close()
        self.outcomes.close()
        self.runner.close()
