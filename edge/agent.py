"""Builds the edge from config: local model, uplink and, per app namespace, its cache, router and cascade.

The local model, the embedder and the link to the cloud are shared by every namespace; what one app has
learned or cached (answers, outcomes, feedback) lives in that namespace's own SQLite files, so no lookup can
reach another app's data. A daemon without app tokens has one namespace, "", in the classic paths.

Every resource is registered on an exit stack as soon as it exists, so `close()` (and a constructor that
fails half-way) releases all of them even when one of them fails to close.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from edge.cache.answer_cache import LayeredAnswerCache
from edge.cache.embeddings import AsyncEmbedder
from edge.cache.store import SqliteCache
from edge.cache.vector_index import VectorIndex
from edge.confidence.estimators import configured_estimator, refitting
from edge.confidence.learned import FEATURES
from edge.core.redaction import KINDS
from edge.fleet_sync import FleetSync
from edge.local.generator import LlamaGenerator
from edge.local.model import load_local_model
from edge.namespace import AppNamespace, NamespaceParts
from edge.pipeline.cascade import Cascade, CascadeParts
from edge.pipeline.decision import NOMINAL_DEVICE, DeviceShift
from edge.privacy.detector import PersonalDataDetector
from edge.privacy.egress import AuditedUplink, EgressLog
from edge.privacy.gate import PrivacyGate
from edge.routing.experts import ExpertChooser
from edge.routing.fleet_layer import FleetLayer, WithFleet
from edge.routing.labels import OutcomeLabels
from edge.routing.outcome_store import LayeredOutcomes, OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from edge.sqlite_db import StorageReport
from edge.uplink.breaker import BreakerState, CircuitBreaker
from edge.uplink.client import CloudClient
from edge.uplink.uplink import CloudUplink
from shared.config import ROUTE, TandemConfig
from shared.config.base import check_namespace
from shared.types import ExpertInfo, ModelInfo

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
class AgentStatus:
    """What the agent's shared parts are doing now (one snapshot; the cloud's own health is asked separately)."""

    edge_model: str
    edge_loaded: bool
    local_generations: int  # queued or running on the one local model context
    cloud_address: str
    circuit: BreakerState


class EdgeAgent:
    """Owns every resource of the edge and hands out app namespaces:
    `async with EdgeAgent(config) as agent: await agent.namespace().answer(query)`."""

    def __init__(
        self,
        config: TandemConfig,
        device: Callable[[], DeviceShift] = lambda: NOMINAL_DEVICE,
        namespaces: Sequence[str] = (DEFAULT_NAMESPACE,),
    ) -> None:
        edge = config.edge
        self.config = config
        self.storage = StorageReport()  # this agent's disk health, for /healthz
        self._closers = contextlib.ExitStack()
        try:
            self._runner = load_local_model(edge.local, config.data_dir)
            self._closers.callback(self._runner.close)
            self._generator = LlamaGenerator(self._runner, edge.local.max_local_queue)
            # Calibration writes here; named namespaces read its labeled outcomes, never its feedback.
            self._calibration = self._closing(OutcomeStore(outcomes_path(config), storage=self.storage))
            self._client = CloudClient.from_config(edge.uplink)
            self._breaker = CircuitBreaker(edge.uplink.breaker_failures, edge.uplink.breaker_reset_s)
            self._uplink = CloudUplink(self._client, self._breaker, edge.uplink.s_per_token)
            # One embedder serves the semantic caches, the routers, expert choice and feedback; none when all are off.
            self._embedder: AsyncEmbedder | None = None
            if (edge.cache.enabled and edge.cache.semantic) or edge.routing.enabled or edge.experts.mode == ROUTE:
                from edge.cache.embeddings import SentenceEmbedder

                self._embedder = AsyncEmbedder(SentenceEmbedder(edge.cache.embed_threads))
            self._device = device
            self._detector = PersonalDataDetector(frozenset(KINDS))  # one NER model for every app
            self._estimator = configured_estimator(edge, self._generator.model_name)
            self._experts = ExpertChooser(edge.experts, self._cloud_experts, self._embedder)
            # The fleet's router rows under every app's own labels; the daemon runs the sync (`fleet.run()`).
            self.fleet_layer = FleetLayer()
            self.fleet: FleetSync | None = None
            if self._embedder is not None and (edge.fleet.share != "off" or edge.fleet.public_key):
                state = config.data_dir / "fleet.json"
                self.fleet = FleetSync(self._client, self.fleet_layer, edge.fleet, self._embedder, state)
            names = dict.fromkeys(namespaces)
            if not names:
                raise ValueError("an edge agent serves at least one namespace")
            self._namespaces = {name: self._namespace(name) for name in names}
        except BaseException:
            self._closers.close()
            raise

    def _closing(self, resource):
        self._closers.callback(resource.close)
        return resource

    def _namespace(self, name: str) -> AppNamespace:
        edge = self.config.edge
        store = None
        if edge.cache.enabled:
            store = self._closing(
                SqliteCache(cache_path(self.config, name), max_entries=edge.cache.max_entries, storage=self.storage)
            )
        cache = None
        if store is not None:
            index = VectorIndex(self._embedder.dim) if self._embedder and edge.cache.semantic else None
            cache = LayeredAnswerCache(store, index, edge.cache)
        outcomes = self._calibration
        if name:
            outcomes = self._closing(OutcomeStore(outcomes_path(self.config, name), storage=self.storage))
        router = None
        if edge.routing.enabled:
            source = LayeredOutcomes(self._calibration, outcomes) if name else outcomes
            router = KnnRoutePolicy(WithFleet(self.fleet_layer, source), edge.routing, edge.fleet.weight)

        model = self._generator.model_name
        stored = functools.partial(outcomes.featured, model, len(FEATURES))
        estimator, rule = self._estimator, refitting(self._estimator, edge, stored)
        labels = OutcomeLabels(outcomes, router, rule, model) if edge.routing.agreement_labels else None
        # Every request that leaves for this app is logged first (edge.privacy.egress), its labels' uploads too.
        egress = self._closing(EgressLog(namespace_dir(self.config, name) / "egress.sqlite", self.storage))
        if self.fleet is not None:
            self.fleet.add_app(name, outcomes, router, egress.audit)
        stages = CascadeParts(
            generator=self._generator,
            estimator=rule or estimator,
            uplink=AuditedUplink(self._uplink, egress),
            cache=cache,
            router=router,
            embedder=self._embedder,
            experts=self._experts,
            labels=labels,
        )
        cascade = Cascade(stages, edge, self.config.cost, self._device)
        gate = PrivacyGate(self.config.daemon.privacy, name, self._detector)
        parts = NamespaceParts(cascade, outcomes, store, cache, router, gate, egress, labels)
        return AppNamespace(name, parts, self._embedder)

    @property
    def namespaces(self) -> Mapping[str, AppNamespace]:
        return MappingProxyType(self._namespaces)

    def namespace(self, name: str | None = None) -> AppNamespace:
        """The named app's namespace; without a name, the first one (the only one of a daemon without tokens)."""
        return self._namespaces[name] if name is not None else next(iter(self._namespaces.values()))

    def status(self) -> AgentStatus:
        return AgentStatus(
            edge_model=self._generator.model_name,
            edge_loaded=not self._runner.closed,
            local_generations=self._generator.running,
            cloud_address=self._client.address,
            circuit=self._breaker.state,
        )

    async def cloud_info(self, timeout_s: float = 5.0) -> ModelInfo:
        """The cloud's model, limits and experts (raises when it cannot be reached)."""
        return await self._client.model_info(timeout_s=timeout_s)

    async def cloud_status(self):
        """The cloud's GetServerStatus reply (served requests, tenants, replicas)."""
        return await self._client.server_status()

    async def experts_ready(self) -> bool:
        """True once the cloud's experts are listed and embedded (expert routing on)."""
        return await self._experts.ready()

    async def __aenter__(self) -> EdgeAgent:
        self._experts.warm()
        if self.config.daemon.privacy.acts_on_names(self._namespaces):  # the NER model loads now, not on a request
            await asyncio.to_thread(self._detector.warm)
        return self

    async def _cloud_experts(self) -> tuple[ExpertInfo, ...]:
        return (await self._client.model_info()).experts

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            for namespace in self._namespaces.values():
                await namespace.close()
            await self._client.close()
        finally:
            self._closers.close()
