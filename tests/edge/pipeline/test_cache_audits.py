"""Audits of semantic cache hits through the cascade: in the background, never for exact hits, learned from, and
cancelled on close (the real embedder and SQLite cache; the cloud gated so a running audit is observable)."""

from __future__ import annotations

import pytest

from edge.cache.answer_cache import LayeredAnswerCache
from edge.cache.embeddings import AsyncEmbedder, SentenceEmbedder
from edge.cache.store import SqliteCache
from edge.cache.vector_index import VectorIndex
from edge.confidence.estimators import create_estimator
from edge.core.protocols import LazyVector
from edge.core.query import Query
from edge.pipeline.cascade import Cascade, CascadeParts
from shared.config import CostConfig, EdgeConfig
from tests.edge.pipeline.fakes import FakeGenerator
from tests.edge.pipeline.test_audits import GatedUplink
from tests.edge.pipeline.test_policy import ANSWERS

pytestmark = pytest.mark.model

CACHED, PARAPHRASE = "Is a tomato a fruit?", "Is the tomato a fruit?"


@pytest.fixture(scope="module")
def embedder() -> AsyncEmbedder:
    return AsyncEmbedder(SentenceEmbedder(threads=2))


async def audited_cascade(tmp_path, embedder, answer: str) -> tuple[Cascade, GatedUplink, LayeredAnswerCache]:
    config = EdgeConfig(cache={"semantic_threshold": 0.85, "audit_rate": 1.0})
    store = SqliteCache(tmp_path / "c.sqlite")
    cache = LayeredAnswerCache(store, VectorIndex(embedder.dim), config.cache)
    cached = Query(question=CACHED)
    await cache.store(cached, answer="Yes", model="m", ttl_s=60, meta={}, vector=LazyVector(embedder, cached.text))
    uplink = GatedUplink([answer])
    parts = CascadeParts(FakeGenerator(ANSWERS), create_estimator("mean_logprob"), uplink, cache, embedder=embedder)
    return Cascade(parts, config, CostConfig()), uplink, cache


async def test_a_semantic_hit_is_audited_in_the_background_and_a_disagreement_learned(tmp_path, embedder):
    c, uplink, cache = await audited_cascade(tmp_path, embedder, "No")
    result = await c.answer(Query(question=PARAPHRASE))
    assert result.served_by == "cache" and result.answer == "Yes", "the app has its answer"
    assert c.cache_audits.auditor.running == 1, "while the audit still waits on the cloud"
    uplink.gate.set()
    await c.cache_audits.auditor.settle()
    assert c.cache_audits.report().finished == 1
    bound = cache.bound()
    assert (bound.audited, bound.wrong, bound.tightened) == (1, 1, 1)
    again = await c.answer(Query(question=PARAPHRASE))
    assert again.answer == "No", "the question asked now has the cloud's own answer"
    assert c.cache_audits.report().eligible == 1, "an exact hit is never audited"
    exact_first = await c.answer(Query(question=CACHED))
    assert exact_first.answer == "Yes"
    await c.aclose()


async def test_an_agreeing_audit_keeps_the_entry_and_closing_cancels_audits(tmp_path, embedder):
    c, uplink, cache = await audited_cascade(tmp_path, embedder, "Yes")
    await c.answer(Query(question=PARAPHRASE))
    uplink.gate.set()
    await c.cache_audits.auditor.settle()
    assert (cache.bound().audited, cache.bound().wrong, cache.bound().tightened) == (1, 0, 0)
    uplink.gate.clear()
    await c.answer(Query(question="Is a tomato really a fruit?"))
    assert c.cache_audits.auditor.running == 1
    await c.aclose()
    assert c.cache_audits.auditor.running == 0 and cache.bound().audited == 1
