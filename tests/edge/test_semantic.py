"""Semantic matching: the entity guard (pure logic), the real ONNX embedder, the guarded semantic cache."""

from __future__ import annotations

import numpy as np
import pytest

from edge.cache import SqliteCache
from edge.embeddings import SentenceEmbedder
from edge.semantic import VectorIndex, entities, same_entities
from edge.semantic_cache import SemanticMatcher

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
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder(threads=2)


def test_paraphrases_are_closer_than_contrasts(embedder):
    base, para, other, unrelated = embedder.embed(
        [FRANCE, "what's France's capital city?", "What is the capital of Spain?", "How many legs does a spider have?"]
    )
    assert np.linalg.norm(base) == pytest.approx(1.0, abs=1e-5)
    sim = lambda a, b: float(a @ b)  # noqa: E731
    assert sim(base, para) > 0.85
    assert sim(base, para) > sim(base, other) > sim(base, unrelated)


async def test_semantic_hit_and_guarded_miss(tmp_path, embedder):
    cache = SqliteCache(tmp_path / "c.sqlite")
    matcher = SemanticMatcher(cache, embedder.dim, threshold=0.85)
    vector = embedder.embed_one(FRANCE)
    matcher.remember("k-fr", vector)
    cache.put("k-fr", FRANCE.lower(), "Paris", "m", None, {"question": FRANCE, "params": "p"}, 60, vector)

    async def lookup(text: str, params: str = "p"):
        return await matcher.lookup(text, params, embedder.embed_one(text))

    hit, similarity = await lookup("what's France's capital city?")
    assert hit is not None and hit.answer == "Paris" and similarity >= 0.85
    assert (await lookup("What is the capital of Spain?"))[0] is None, "entity guard"
    assert (await lookup("what's France's capital city?", "other-params"))[0] is None
    cache.close()

    reopened = SqliteCache(tmp_path / "c.sqlite")
    assert len(SemanticMatcher(reopened, embedder.dim, 0.85).index) == 1, "the index is rebuilt from disk"
    reopened.close()


def test_vector_index_orders_by_similarity():
    index = VectorIndex(2)
    index.add("x", np.array([1.0, 0.0], dtype=np.float32))
    index.add("y", np.array([0.0, 1.0], dtype=np.float32))
    assert [k for k, _ in index.search(np.array([0.6, 0.8], dtype=np.float32))] == ["y", "x"]
