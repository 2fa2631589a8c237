"""The learned router as the cascade consults it: labeled neighbours of a query give a stay-local score.

What the score does (route before generation, mix with the log-prob score after) is decided in one place,
`edge.pipeline.decision.decide`.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from edge.core.protocols import TEACHER_SOURCES, LazyVector, RouterAdvice
from edge.routing.fleet_layer import FLEET_PREFIX
from edge.routing.knn import KnnRouter, LabeledOutcomes
from edge.routing.outcome_store import OutcomeRows, OutcomeSource
from shared.config import RoutingConfig


def build_router(rows: OutcomeRows, config: RoutingConfig, fleet_weight: float = 1.0) -> KnnRouter:
    fleet = np.char.startswith(rows.sources.astype(str), FLEET_PREFIX)
    kinds = np.where(fleet, np.char.replace(rows.sources.astype(str), FLEET_PREFIX, ""), rows.sources)
    teacher = np.isin(kinds, TEACHER_SOURCES)
    weights = np.where(teacher, config.agreement_weight, 1.0) * np.where(fleet, fleet_weight, 1.0)
    history = LabeledOutcomes(rows.embeddings, rows.edge_correct, rows.cloud_correct, weights)
    relative = config.kernel == "relative"
    return KnnRouter(history, config.k, config.sharpness, config.prior_strength, relative)


def advise_many(
    router: KnnRouter, embeddings: np.ndarray, config: RoutingConfig, leave_one_out: bool = False
) -> list[RouterAdvice]:
    """The advice for each row, as served; `leave_one_out` replays it on the labeled questions themselves."""
    est = router.estimate(embeddings, leave_one_out)
    mean, low, high = est.stay_local(), est.stay_local(config.credible_z), est.stay_local(-config.credible_z)
    spoken = (est.nearest >= config.min_similarity) & (est.support >= config.min_support)
    return [
        RouterAdvice(float(mean[i]), float(low[i]), float(high[i])) if spoken[i] else RouterAdvice(None)
        for i in range(len(embeddings))
    ]


class KnnRoutePolicy:
    def __init__(self, store: OutcomeSource, config: RoutingConfig, fleet_weight: float = 1.0) -> None:
        self.store = store
        self.config = config
        self.fleet_weight = fleet_weight
        self._lock = threading.Lock()
        self._router: KnnRouter | None = None
        self._rows = OutcomeRows.empty()
        self.refresh()

    @property
    def labels(self) -> int:
        """Labeled questions the router consults now."""
        with self._lock:
            return 0 if self._router is None else len(self._router.history.embeddings)

    def refresh(self) -> None:
        """Rebuilds the neighbour index from the store (after calibration or feedback)."""
        rows = self.store.all()
        router = build_router(rows, self.config, self.fleet_weight) if len(rows.sources) else None
        with self._lock:
            self._rows, self._router = rows, router

    def learn(self, embedding: np.ndarray, edge_correct: bool, source: str, cloud_correct: float | None = None) -> None:
        """One label (the cloud's side soft or unknown), used from the next query on without re-reading the store."""
        row = OutcomeRows(
            np.asarray(embedding, np.float32)[None, :],
            np.array([float(edge_correct)]),
            np.array([np.nan if cloud_correct is None else float(cloud_correct)]),
            np.array([source]),
        )
        with self._lock:
            rows = OutcomeRows.concat([self._rows, row])
            self._rows, self._router = rows, build_router(rows, self.config, self.fleet_weight)

    def advice_rows(self, embeddings: np.ndarray, leave_one_out: bool = False) -> list[RouterAdvice]:
        """The served advice for each row; `leave_one_out` when the rows are the labeled questions themselves
        (calibrate's replay of its own split)."""
        with self._lock:
            router = self._router
        if router is None:
            return [RouterAdvice(None)] * len(embeddings)
        return advise_many(router, embeddings, self.config, leave_one_out)

    def advice_for(self, embedding: np.ndarray) -> RouterAdvice:
        return self.advice_rows(embedding[None, :])[0]

    async def advise(self, vector: LazyVector) -> RouterAdvice:
        embedding = await vector.get()
        return RouterAdvice(None) if embedding is None else await asyncio.to_thread(self.advice_for, embedding)
