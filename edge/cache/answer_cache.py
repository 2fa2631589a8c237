"""The answer cache as the cascade sees it: an exact store and a semantic index behind one facade.

Every write goes to both, and every eviction of the store leaves the index, so the two never disagree. A semantic
hit must pass the contrast guard (`edge.cache.contrasts`) and the thresholds audits have learned
(`edge.cache.hit_bound`); an audited hit the cloud answers differently tightens its entry and caches the fresh
answer under the question that was asked.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

import numpy as np

from edge.cache.contrasts import same_question
from edge.cache.hit_bound import AuditedHit, HitBoundReport, HitThresholds
from edge.cache.store import CachedAnswer, CacheStore
from edge.cache.vector_index import VectorIndex
from edge.core.keys import normalize_text
from edge.core.protocols import CacheHit, LazyVector
from edge.core.query import Query
from shared.answers import draft_agrees
from shared.config import CacheConfig
from shared.types import GenerationResult

AGREEMENT_WORDS = 12  # longer answers are not compared: an audit of one labels nothing


class LayeredAnswerCache:
    """`index` None: exact matches only (semantic matching off or no embedder)."""

    def __init__(
        self,
        store: CacheStore,
        index: VectorIndex | None,
        config: CacheConfig,
        guard: Callable[[str, str], bool] = same_question,
    ) -> None:
        self.exact = store
        self.index = index
        self.config = config
        self.guard = guard
        self.thresholds = HitThresholds(config.semantic_threshold, config.max_error, store.audited_hits())
        if index is not None:
            for key, vector in store.embeddings():
                index.add(key, vector)

    async def lookup(self, query: Query, vector: LazyVector) -> CacheHit | None:
        if (hit := await asyncio.to_thread(self.exact.get, query.key)) is not None:
            return CacheHit(hit.answer, hit.model)
        if self.index is None or not self.config.semantic or (embedding := await vector.get()) is None:
            return None
        return await asyncio.to_thread(self._semantic, self.index, query, embedding)

    def _semantic(self, index: VectorIndex, query: Query, embedding: np.ndarray) -> CacheHit | None:
        """The nearest cached answer the thresholds and the guard accept (one worker-thread trip: search, guard and
        SQLite together)."""
        for key, similarity in index.search(embedding):
            if similarity < self.thresholds.threshold:
                break
            if similarity < self.thresholds.for_entry(key):  # an audit found this entry wrong this far out
                continue
            # Peek first: a candidate the guard rejects is neither a hit nor a recent use.
            candidate = self.exact.peek(key)
            if candidate is None or not self._matches(query, candidate):
                continue
            if (hit := self.exact.get(key)) is not None:
                return CacheHit(hit.answer, hit.model, similarity, key)
        return None

    async def audited(self, query: Query, hit: CacheHit, fresh: GenerationResult, vector: LazyVector) -> bool | None:
        """The cloud's fresh answer to a question a semantic hit answered: whether the two agree (None: cannot
        tell). A disagreement tightens the entry and caches the fresh answer under the question asked."""
        if hit.similarity is None or hit.key is None:
            return None
        if max(len(hit.answer.split()), len(fresh.text.split())) > AGREEMENT_WORDS:
            return None  # two right answers in sentences rarely match word for word: no label rather than a wrong one
        agrees = draft_agrees(hit.answer, fresh.text, complete=True)
        if agrees is None:
            return None
        audited = AuditedHit(hit.key, hit.similarity, agrees)
        await asyncio.to_thread(self._record, audited)
        if not agrees and fresh.cache.cacheable:
            ttl = min(fresh.cache.ttl_seconds, self.config.max_ttl_s)
            await self.store(query, answer=fresh.text, model=fresh.model, ttl_s=ttl, meta={}, vector=vector)
        return agrees

    def _record(self, audited: AuditedHit) -> None:
        self.thresholds.record(audited)
        self.exact.add_audited_hit(audited)

    def bound(self) -> HitBoundReport:
        return self.thresholds.report()

    def _matches(self, query: Query, candidate: CachedAnswer) -> bool:
        if candidate.meta.get("params") != query.params_key:
            return False
        return self.guard(query.text, candidate.meta.get("question", candidate.question))

    async def store(
        self, query: Query, *, answer: str, model: str, ttl_s: float, meta: dict, vector: LazyVector
    ) -> None:
        embedding = await vector.get() if self.index is not None else None
        meta = {**meta, "question": query.text, "params": query.params_key}
        try:
            gone = await asyncio.to_thread(
                self.exact.put,
                key=query.key,
                question=normalize_text(query.text),
                answer=answer,
                model=model,
                confidence=meta.get("edge_confidence"),
                meta=meta,
                ttl_s=ttl_s,
                embedding=embedding,
            )
        except (sqlite3.Error, OSError) as exc:  # a full disk costs the cache entry, never the answer
            self.exact.storage.failed("cache", exc)
            return
        self.exact.storage.ok()
        if self.index is not None:
            self.index.remove(gone)
            if embedding is not None:
                self.index.add(query.key, embedding)

    async def context_for(self, query: Query, vector: LazyVector) -> list[tuple[str, str]]:
        if self.index is None or (embedding := await vector.get()) is None:
            return []
        pairs = []
        for key, similarity in self.index.search(embedding, self.config.context_pairs):
            if similarity < self.config.context_min_similarity:
                break
            cached = await asyncio.to_thread(self.exact.peek, key)
            if cached is not None:
                pairs.append((cached.meta.get("question", cached.question), cached.answer))
        return pairs[::-1]
