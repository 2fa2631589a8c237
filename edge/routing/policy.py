"""The learned router as the cascade consults it: labeled neighbours of a query give a stay-local score.

What the score does (route before generation, mix with the log-prob score after) is decided in one place,
`edge.pipeline.decision.decide`.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from edge.cache.embeddings import LazyVector
from edge.pipeline.protocols import RouterAdvice
from edge.routing.knn import KnnRouter, LabeledOutcomes
from edge.routing.outcome_store import OutcomeStore
from shared.config import RoutingConfig


class KnnRoutePolicy:
    def __init__(self, store: OutcomeStore, config: RoutingConfig) -> None:
        self.store = store
        self.config = config
        self._lock = threading.Lock()
        self._router: KnnRouter | None = None
        self.refresh()

    def refresh(self) -> None:
        """Rebuilds the neighbour index from the store (after calibration or feedback)."""
        embeddings, edge_ok, cloud_ok = self.store.all()
        router = KnnRouter(LabeledOutcomes(embeddings, edge_ok, cloud_ok), k=self.config.k) if len(embeddings) else None
        with self._lock:
            self._router = router

    def advice_for(self, embedding: np.ndarray) -> RouterAdvice:
        with self._lock:
            router = self._router
        if router is None or router.nearest_similarity(embedding[None, :])[0] < self.config.min_similarity:
            return RouterAdvice(None)
        return RouterAdvice(float(router.confidence(embedding[None, :])[0]))

    async def advise(self, vector: LazyVector) -> RouterAdvice:
        embedding = await vector.get()
        return RouterAdvice(None) if embedding is None else await asyncio.to_thread(self.advice_for, embedding)
