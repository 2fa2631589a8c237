"""Builds the edge from config: local model, uplink and, per app namespace, its cache, router and cascade.

The local model, the embedder and the link to the cloud are shared by every namespace; what one app has
learned or cached (answers, outcomes, feedback) lives in that namespace's own SQLite files, so no lookup can
reach another app's data. A daemon without app tokens has one namespace, "", in the classic paths.

Every resource is registered on an exit stack as soon as it exists, so `close()` (and a constructor that
fails half-way) releases all of them even when one of them fails to close.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from edge.routing.experts import ExpertChooser
from edge.routing.outcome_store import LayeredOutcomes, OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from edge.uplink.breaker import CircuitBreaker
from edge.uplink.client import CloudClient
from edge.uplink.uplink import CloudUplink
from shared.config import TandemConfig
from shared.config_section import check_namespace
from shared.experts_config import ROUTE
from shared.types import ExpertInfo

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE = ""


def namespace_dir(config: TandemConfig, namespace: str = DEFAULT_NAMESPACE) -> Path:
    root = config.data_dir / "edge"
    return root / "ns" / check_namespace(namespace) if namespace else root


def cache_path(config: TandemConfig, namespace: str = DEFAULT_NAMESPACE) -> Path:
    return namespace_dir(config, namespace) / "cache.sqlite"


def outcomes_path(config: TandemConfig, namespace: str = DEFAULT_NAMESPACE) -> Path:
    return namespace_dir(config, namespace) / "outcomes.sqlite"


def open_cache(config: TandemConfig, namespace: str = DEFAULT_NAMESPACE) -> SqliteCache:
    return SqliteCache(cache_path(config, namespace), max_entries=config.edge.cache.max_entries)


@dataclass(frozen=True)
class Namespace:
    """One app's share of the edge: its own cache, outcomes, router and cascade."""

    name: str
    store: SqliteCache | None
    cache: LayeredAnswerCache | None
    outcomes: OutcomeStore
    router: KnnRoutePolicy | None
    cascade: Cascade


class EdgeAgent:
    """Owns every resource of the edge: `async with EdgeAgent(config) as agent: await agent.cascade.answer(q)`."""

    def __init__(
        self,
        config: TandemConfig,
        device: Callable[[], DeviceShift] = lambda: NOMINAL_DEVICE,
        namespaces: Sequence[str] = (DEFAULT_NAMESPACE,),
    ) -> None:
        edge = config.edge
        self.config = config
        self._closers = contextlib.ExitStack()
        try:
            runner = load_local_model(edge.local)
            self._closers.callback(runner.close)
            self.generator = LlamaGenerator(runner, edge.local.max_local_queue)
            # Calibration writes here; named namespaces read its labeled outcomes, never its feedback.
            self.calibration = self._closing(OutcomeStore(outcomes_path(config)))
            self.client = CloudClient.from_config(edge.uplink)
            self.breaker = CircuitBreaker(edge.uplink.breaker_failures, edge.uplink.breaker_reset_s)
            self.uplink = CloudUplink(self.client, self.breaker)
            # One embedder serves the semantic caches, the routers, expert choice and feedback; none when all are off.
            self.embedder = None
            if (edge.cache.enabled and edge.cache.semantic) or edge.routing.enabled or edge.experts.mode == ROUTE:
                from edge.cache.embeddings import SentenceEmbedder

                self.embedder = AsyncEmbedder(SentenceEmbedder(edge.cache.embed_threads))
            self.device = device
            self.experts = ExpertChooser(edge.experts, self._cloud_experts, self.embedder)
            self.namespaces = {name: self._namespace(name) for name in dict.fromkeys(namespaces)}
            if not self.namespaces:
                raise ValueError("an edge agent serves at least one namespace")
            default = next(iter(self.namespaces.values()))
            # The first namespace's parts, for single-app callers (CLI ask, calibrate, benchmarks).
            self.store, self.cache, self.outcomes = default.store, default.cache, default.outcomes
            self.router, self.cascade = default.router, default.cascade
            self.style = self.cascade.style
        except BaseException:
            self._closers.close()
            raise

    def _closing(self, resource):
        self._closers.callback(resource.close)
        return resource

    def _namespace(self, name: str) -> Namespace:
        edge = self.config.edge
        store = self._closing(open_cache(self.config, name)) if edge.cache.enabled else None
        cache = None
        if store is not None:
            index = VectorIndex(self.embedder.dim) if self.embedder and edge.cache.semantic else None
            cache = LayeredAnswerCache(store, index, edge.cache)
        outcomes = self._closing(OutcomeStore(outcomes_path(self.config, name))) if name else self.calibration
        router = None
        if edge.routing.enabled:
            router = KnnRoutePolicy(LayeredOutcomes(self.calibration, outcomes) if name else outcomes, edge.routing)
        parts = CascadeParts(
            generator=self.generator,
            estimator=create_estimator(edge.confidence.estimator, edge.confidence.quantile),
            uplink=self.uplink,
            cache=cache,
            router=router,
            embedder=self.embedder,
            experts=self.experts,
        )
        return Namespace(name, store, cache, outcomes, router, Cascade(parts, edge, self.config.cost, self.device))

    def namespace(self, name: str) -> Namespace:
        return self.namespaces[name]

    async def __aenter__(self) -> EdgeAgent:
        self.experts.warm()
        return self

    async def _cloud_experts(self) -> tuple[ExpertInfo, ...]:
        return (await self.client.model_info()).experts

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self.client.close()
        finally:
            self._closers.close()
