"""The learned router inside the cascade: decides before generation, and shifts the threshold after.

With router confidence r (stay-local score of the labeled neighbours) and log-prob weight w, the cascade
escalates when w * logprob_score + (1 - w) * r < threshold. That is the log-prob estimator alone against an
effective threshold (threshold - (1 - w) * r) / w, so early escalation and every estimator work unchanged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np

from edge.outcome_store import OutcomeStore
from edge.router import KnnRouter, LabeledOutcomes
from shared.config import EdgeConfig


@dataclass(frozen=True)
class RouteDecision:
    confidence: float | None  # None: no labeled question close enough, the router abstains
    route: Literal["auto", "edge", "cloud"]

    def threshold_for_logprob(self, threshold: float, weight: float) -> float:
        if self.confidence is None:
            return threshold
        if weight == 0.0:
            return 0.0 if self.confidence >= threshold else float("inf")
        return (threshold - (1.0 - weight) * self.confidence) / weight


class RouterGate:
    def __init__(self, store: OutcomeStore, config: EdgeConfig) -> None:
        self.store = store
        self.config = config
        self._lock = threading.Lock()
        self._router: KnnRouter | None = None
        self.refresh()

    def refresh(self) -> None:
        """Rebuilds the neighbour index from the store (after calibration or feedback)."""
        embeddings, edge_ok, cloud_ok = self.store.all()
        router = (
            KnnRouter(LabeledOutcomes(embeddings, edge_ok, cloud_ok), k=self.config.router_k)
            if len(embeddings)
            else None
        )
        with self._lock:
            self._router = router

    def decide(self, embedding: np.ndarray) -> RouteDecision:
        with self._lock:
            router = self._router
        if router is None or router.nearest_similarity(embedding[None, :])[0] < self.config.router_min_similarity:
            return RouteDecision(None, "auto")
        confidence = float(router.confidence(embedding[None, :])[0])
        if confidence < self.config.router_cloud_below:
            return RouteDecision(confidence, "cloud")
        if confidence >= self.config.router_local_above:
            return RouteDecision(confidence, "edge")
        return RouteDecision(confidence, "auto")
