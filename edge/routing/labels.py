"""Labels the cascade observes (agreement with the cloud, audits), kept in the app's outcome store and learned
by its router at once."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Sequence

from edge.confidence.learned import token_features
from edge.confidence.refit import RefittingLearned
from edge.core.protocols import LazyVector
from edge.routing.outcome_store import OutcomeStore
from edge.routing.policy import KnnRoutePolicy
from shared.llama_runtime import StepToken


class OutcomeLabels:
    """Implements `LabelSink` for one namespace."""

    def __init__(
        self, store: OutcomeStore, router: KnnRoutePolicy | None, rule: RefittingLearned | None, edge_model: str
    ) -> None:
        self._store = store
        self._router = router
        self._rule = rule
        self._edge_model = edge_model
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, bool]] = Counter()

    async def record(
        self,
        question: str,
        vector: LazyVector,
        *,
        edge_correct: bool,
        source: str,
        steps: Sequence[StepToken] = (),
        cloud_correct: float | None = None,
    ) -> None:
        embedding = await vector.get()
        if embedding is None:  # no embedder runs: nothing could ever find this label
            return
        features = token_features(steps) if steps else None

        def keep() -> None:  # one trip to a worker thread for the store write and both learners
            self._store.add(
                question=question,
                embedding=embedding,
                edge_correct=edge_correct,
                cloud_correct=cloud_correct,
                source=source,
                features=features,
                edge_model=self._edge_model,
            )
            if self._router is not None:
                self._router.learn(embedding, edge_correct, source, cloud_correct)
            if self._rule is not None and features is not None:
                self._rule.learn(features, edge_correct, source)

        await asyncio.to_thread(keep)
        with self._lock:
            self._counts[source, edge_correct] += 1

    def counts(self) -> dict[str, dict[str, int]]:
        """Labels recorded since start, per source: how many said the edge was right, how many wrong."""
        with self._lock:
            sources = sorted({source for source, _ in self._counts})
            return {s: {"edge_right": self._counts[s, True], "edge_wrong": self._counts[s, False]} for s in sources}
