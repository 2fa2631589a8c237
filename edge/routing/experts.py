"""Which cloud memory expert an escalated question should name.

The cloud lists its experts with one question per fact (ModelInfo.experts). The edge embeds those once, with
the embedder it already runs for every query, and names the expert whose nearest fact question is closest to
the query — or none (the base model) when even the closest is below `min_similarity`. A nearest fact of a
templated table is not enough (a question about another relation of the same subject sits as close): the
question must name a subject the table holds and ask its relation (`edge.routing.expert_tables`). Merged adapters
are not candidates: they are chosen by name (`mode`), not routed to.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from edge.core.protocols import Embedder, ExpertChoice, LazyVector
from edge.routing.expert_tables import TableTemplate, table_template
from shared.config import OFF, ROUTE, ExpertsConfig
from shared.types import ExpertInfo

log = logging.getLogger(__name__)

RETRY_AFTER_S = 30.0  # a cloud that could not list its experts is asked again after this


@dataclass(frozen=True)
class _Index:
    names: tuple[str, ...]
    owner: np.ndarray  # row -> index into names
    vectors: np.ndarray  # one normalized row per fact question
    templates: tuple[TableTemplate | None, ...]  # per expert
    template_vectors: np.ndarray  # per expert: its masked template (zeros without one)


class ExpertChooser:
    def __init__(
        self,
        config: ExpertsConfig,
        list_experts: Callable[[], Awaitable[tuple[ExpertInfo, ...]]],
        embedder: Embedder | None,
    ) -> None:
        self._config = config
        self._list_experts = list_experts
        self._embedder = embedder
        self._index: _Index | None = None
        self._loading: asyncio.Task | None = None
        self._failed_at = -RETRY_AFTER_S

    def warm(self) -> None:
        """Starts listing and embedding in the background (the edge agent does it at start)."""
        if self._config.mode == ROUTE and self._embedder is not None and self._loading is None and not self._index:
            self._loading = asyncio.create_task(self._load())

    async def choose(self, vector: LazyVector) -> ExpertChoice | None:
        mode = self._config.mode
        if mode == OFF:
            return None
        if mode != ROUTE:
            return ExpertChoice(mode, None)
        index = self._current()
        if index is None or not index.names:
            return None
        query = await vector.get()
        if query is None:
            return None
        similarities = index.vectors @ query
        best_row = int(np.argmax(similarities))
        best = float(similarities[best_row])
        if best < self._config.min_similarity:
            return ExpertChoice("", round(best, 4))
        owner = int(index.owner[best_row])
        name = index.names[owner] if index.templates[owner] is None else await self._by_relation(index, vector.text)
        return ExpertChoice(name, round(best, 4))

    async def _by_relation(self, index: _Index, question: str) -> str:
        """The templated expert whose masked template the masked question reads most like, or none."""
        masked = {i: m for i, t in enumerate(index.templates) if t is not None and (m := t.mask(question))}
        if not masked or self._embedder is None:
            return ""
        vectors = await self._embedder.embed_many(list(masked.values()))
        fits = {i: float(v @ index.template_vectors[i]) for i, v in zip(masked, vectors, strict=True)}
        best = max(fits, key=lambda i: fits[i])
        return index.names[best] if fits[best] >= self._config.relation_similarity else ""

    async def ready(self) -> bool:
        """Waits for the index (benchmarks, tests); True when the cloud listed experts to route to."""
        self.warm()
        if self._loading is not None:
            await asyncio.shield(self._loading)
        return bool(self._index and self._index.names)

    def _current(self) -> _Index | None:
        """Never waits on the request path: until the index is built (or while the cloud is unreachable)
        questions go to the base model, and a background load is (re)started."""
        if self._index is None and self._loading is None and time.monotonic() - self._failed_at >= RETRY_AFTER_S:
            self.warm()
        return self._index

    async def _load(self) -> None:
        try:
            experts = [e for e in await self._list_experts() if not e.merged_from and e.index_questions]
            names: list[str] = []
            owner: list[int] = []
            questions: list[str] = []
            for i, e in enumerate(experts):
                names.append(e.name)
                owner += [i] * len(e.index_questions)
                questions += e.index_questions
            embedder = self._embedder
            vectors = await embedder.embed_many(questions) if questions and embedder else np.zeros((0, 1))
            templates = tuple(table_template(e.index_questions) for e in experts)
            template_vectors = np.zeros((len(experts), vectors.shape[1]), np.float32)
            if embedder is not None and (framed := [i for i, t in enumerate(templates) if t is not None]):
                masked = await embedder.embed_many([templates[i].masked for i in framed])  # type: ignore[union-attr]
                template_vectors[framed] = masked
            self._index = _Index(tuple(names), np.array(owner, dtype=np.int64), vectors, templates, template_vectors)
            log.info("expert index ready", extra={"experts": names, "questions": len(questions)})
        except Exception as exc:  # the cloud may be down: route to the base model now, list again later
            self._failed_at = time.monotonic()
            log.warning("could not list the cloud's experts", extra={"error": repr(exc)})
        finally:
            self._loading = None
