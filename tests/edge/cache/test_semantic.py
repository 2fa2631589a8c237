"""Semantic matching: the entity guard (pure logic), the real ONNX embedder, the layered cache on real SQLite."""

from __future__ import annotations

import numpy as np
import pytest

from edge.cache.answer_cache import LayeredAnswerCache
from edge.cache.embeddings import AsyncEmbedder, SentenceEmbedder
from edge.cache.entities import entities, same_entities
from edge.cache.store import SqliteCache
from edge.cache.vector_index import VectorIndex
from edge.core.protocols import LazyVector
from edge.core.query import Query
from shared.config import CacheConfig

pytestmark = pytest.mark.model

FRANCE = "What is the capital of France?"


def test_entities_and_guard():
    assert entities(FRANCE) == {"france"}
    assert entities("What is 12 plus 5?") == {"12", "5"}
    assert same_entities(FRANCE, "what's France's capital city?")
    assert same_entities(FRANCE, "capital of france?")  # lower-case input still names France
    assert not same_entities(FRANCE, "What is the capital of Spain?")
    assert not same_entities("What is 12 plus 5?", "What is 12 plus 6?")
    assert not same_entities("Which continent is Niger in?", "Which continent is Nigeria in?")


@pytest.fixture(scope="module")
def embedder() -> AsyncEmbedder:
    return AsyncEmbedder(SentenceEmbedder(threads=2))


async def test_paraphrases_are_closer_than_contrasts(embedder):
    base, para, other, unrelated = await embedder.embed_many(
        [FRANCE, "what's France's capital city?", "What is the capital of Spain?", "How many legs does a spider have?"]
    )
    assert np.linalg.norm(base) == pytest.approx(1.0, abs=1e-5)
    sim = lambda a, b: float(a @ b)  # noqa: E731
    assert sim(base, para) > 0.85
    assert sim(base, para) > sim(base, other) > sim(base, unrelated)


def layered(tmp_path, embedder, **config) -> tuple[LayeredAnswerCache, SqliteCache]:
    store = SqliteCache(tmp_path / "c.sqlite", max_entries=config.pop("max_entries", 100))
    cache = LayeredAnswerCache(store, VectorIndex(embedder.dim), CacheConfig(**{"semantic_threshold": 0.85, **config}))
    return cache, store


async def test_semantic_hit_guarded_miss_and_rebuild(tmp_path, embedder):
    cache, store = layered(tmp_path, embedder)
    france = Query(question=FRANCE)
    await cache.store(france, answer="Paris", model="m", ttl_s=60, meta={}, vector=LazyVector(embedder, france.text))

    async def lookup(text: str, **kw):
        query = Query(question=text, **kw)
        return await cache.lookup(query, LazyVector(embedder, query.text))

    hit = await lookup("what's France's capital city?")
    assert hit is not None and hit.answer == "Paris" and hit.similarity >= 0.85
    assert (await lookup(FRANCE)).similarity is None, "an exact hit"
    assert await lookup("What is the capital of Spain?") is None, "entity guard"
    assert await lookup("what's France's capital city?", max_tokens=5) is None, "other sampling parameters"
    store.close()

    reopened = SqliteCache(tmp_path / "c.sqlite")
    index = VectorIndex(embedder.dim)
    LayeredAnswerCache(reopened, index, CacheConfig())
    assert len(index) == 1, "the index is rebuilt from disk"
    reopened.close()


async def test_a_guarded_miss_is_neither_a_hit_nor_a_use(tmp_path, embedder):
    """Fix: the candidate the guard rejects used to count a hit and move up the LRU before the guard spoke."""
    cache, store = layered(tmp_path, embedder)
    france = Query(question=FRANCE)
    await cache.store(france, answer="Paris", model="m", ttl_s=60, meta={}, vector=LazyVector(embedder, france.text))
    before = store.peek(france.key)
    spain = Query(question="What is the capital of Spain?")
    assert await cache.lookup(spain, LazyVector.of(await embedder.embed(FRANCE))) is None  # as close as it gets
    after = store.peek(france.key)
    assert after.hits == before.hits == 0
    assert store.stats().hits == 0


async def test_index_follows_the_stores_lru_eviction(tmp_path, embedder):
    """Fix: the vector index used to keep every key the SQLite LRU had evicted."""
    cache, store = layered(tmp_path, embedder, max_entries=3)
    questions = [f"What is the capital of {c}?" for c in ("France", "Spain", "Peru", "Chile", "Japan")]
    for q in questions:
        query = Query(question=q)
        await cache.store(query, answer="x", model="m", ttl_s=60, meta={}, vector=LazyVector(embedder, query.text))
    assert store.stats().entries == 3 and len(cache.index) == 3
    first = Query(question=questions[0])
    assert await cache.lookup(first, LazyVector(embedder, first.text)) is None
    last = Query(question=questions[-1])
    assert (await cache.lookup(last, LazyVector(embedder, last.text))) is not None


def test_vector_index_orders_grows_and_removes():
    index = VectorIndex(2, capacity=1)
    index.add("x", np.array([1.0, 0.0], dtype=np.float32))
    index.add("y", np.array([0.0, 1.0], dtype=np.float32))
    index.add("z", np.array([0.6, 0.8], dtype=np.float32))
    assert index.capacity == 4, "the buffer doubles instead of copying on every add"
    assert [k for k, _ in index.search(np.array([0.6, 0.8], dtype=np.float32))] == ["z", "y", "x"]
    index.remove(["z", "missing"])
    assert len(index) == 2
    assert [k for k, _ in index.search(np.array([0.6, 0.8], dtype=np.float32))] == ["y", "x"]
    index.remove(["x"])
    assert index.search(np.array([1.0, 0.0], dtype=np.float32)) == [("y", 0.0)]


def test_vector_index_adds_in_amortized_constant_time():
    index = VectorIndex(8, capacity=1)
    grows = 0
    for i in range(1000):
        before = index.capacity
        index.add(str(i), np.ones(8, dtype=np.float32))
        grows += index.capacity != before
    assert grows == 10, "log2(1000) reallocations, not 1000"


async def test_every_contrast_class_is_refused_and_every_paraphrase_served(tmp_path, embedder):
    """With the real embedder, at a threshold similarity alone would serve most contrasts at."""
    from tests.edge.cache.test_contrasts import CASES

    cache, store = layered(tmp_path, embedder, semantic_threshold=0.75, max_entries=1000)
    for i, (_, cached, _, _) in enumerate(CASES):
        query = Query(question=cached)
        await cache.store(query, answer=f"a{i}", model="m", ttl_s=60, meta={}, vector=LazyVector(embedder, query.text))
    plain = LayeredAnswerCache(store, VectorIndex(embedder.dim), cache.config, guard=lambda a, b: True)

    async def served(c: LayeredAnswerCache, text: str) -> str | None:
        hit = await c.lookup(Query(question=text), LazyVector(embedder, text))
        return None if hit is None else hit.answer

    for i, (kind, _, other, paraphrase) in enumerate(CASES):
        assert await served(cache, other) is None, f"{kind}: {other!r}"
        assert await served(cache, paraphrase) == f"a{i}", f"{kind}: {paraphrase!r}"
    wrong_without_guard = [kind for kind, _, other, _ in CASES if await served(plain, other) is not None]
    assert len(wrong_without_guard) >= len(CASES) // 2, "similarity alone would have served these"
    store.close()


async def test_an_audited_wrong_hit_tightens_its_entry_and_survives_a_restart(tmp_path, embedder):
    from tests.edge.pipeline.fakes import cloud_result

    cache, store = layered(tmp_path, embedder)
    tomato = Query(question="Is a tomato a fruit?")
    await cache.store(tomato, answer="Yes", model="m", ttl_s=60, meta={}, vector=LazyVector(embedder, tomato.text))
    asked = Query(question="Is the tomato a fruit?")
    hit = await cache.lookup(asked, LazyVector(embedder, asked.text))
    assert hit is not None and hit.key == tomato.key and hit.similarity is not None
    fresh = cloud_result(["No"])
    assert await cache.audited(asked, hit, fresh, LazyVector(embedder, asked.text)) is False
    assert cache.thresholds.for_entry(tomato.key) > hit.similarity, "the entry is never again served this far out"
    again = await cache.lookup(asked, LazyVector(embedder, asked.text))
    assert again is not None and again.answer == "No" and again.similarity is None, "the fresh answer, exact"
    store.close()

    reopened = SqliteCache(tmp_path / "c.sqlite")
    restarted = LayeredAnswerCache(reopened, VectorIndex(embedder.dim), CacheConfig(semantic_threshold=0.85))
    assert restarted.thresholds.for_entry(tomato.key) > hit.similarity
    assert restarted.bound().audited == 1 and restarted.bound().wrong == 1
    reopened.close()


async def test_answers_in_sentences_are_not_judged_by_an_audit(tmp_path, embedder):
    from tests.edge.pipeline.fakes import cloud_result

    cache, store = layered(tmp_path, embedder)
    tomato = Query(question="Why is a tomato a fruit?")
    long = "Botanically a tomato is a fruit because it develops from the flower and holds the plant's seeds."
    await cache.store(tomato, answer=long, model="m", ttl_s=60, meta={}, vector=LazyVector(embedder, tomato.text))
    asked = Query(question="Why is the tomato a fruit?")
    hit = await cache.lookup(asked, LazyVector(embedder, asked.text))
    reworded = cloud_result(["A tomato counts as a fruit since it grows from the ovary of a flower and has seeds."])
    assert hit is not None and await cache.audited(asked, hit, reworded, LazyVector(embedder, asked.text)) is None
    assert cache.bound().audited == 0, "two right answers worded apart are no evidence of a wrong hit"
    store.close()
