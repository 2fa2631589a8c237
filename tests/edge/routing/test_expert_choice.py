"""Expert choice with the real embedding model over fixed expert listings (no cloud needed for the rule)."""

from __future__ import annotations

import pytest

from edge.cache.embeddings import AsyncEmbedder, SentenceEmbedder
from edge.core.protocols import LazyVector
from edge.routing.expert_tables import table_template
from edge.routing.experts import ExpertChooser
from shared.config import ExpertsConfig
from shared.types import ExpertInfo

pytestmark = pytest.mark.model

COUNTRIES = ("Peru", "Kenya", "Japan", "Chile", "Norway", "Egypt")
EXPERTS = (
    ExpertInfo("capitals", "capital", 6, 1.0, (), tuple(f"What is the capital of {c}?" for c in COUNTRIES)),
    ExpertInfo("currencies", "currency", 6, 1.0, (), tuple(f"What is the currency of {c}?" for c in COUNTRIES)),
    ExpertInfo("merged", "capital, currency", 12, 0.0, ("capitals", "currencies"), ("What is the capital of Peru?",)),
)


@pytest.fixture(scope="module")
def embedder() -> AsyncEmbedder:
    return AsyncEmbedder(SentenceEmbedder(threads=2))


async def _listing() -> tuple[ExpertInfo, ...]:
    return EXPERTS


async def _choose(chooser: ExpertChooser, embedder: AsyncEmbedder, text: str):
    return await chooser.choose(LazyVector(embedder, text))


async def test_routes_paraphrases_to_the_nearest_expert_and_abstains_on_unrelated(embedder):
    chooser = ExpertChooser(ExpertsConfig(min_similarity=0.6), _listing, embedder)
    assert await chooser.ready()
    for question, expected in [
        ("Which city is the capital of Japan?", "capitals"),
        ("Do you know the capital of Egypt?", "capitals"),
        ("What money do people use in Kenya?", "currencies"),
        ("Name the currency of Norway.", "currencies"),
        ("How many legs does a spider have?", ""),
    ]:
        choice = await _choose(chooser, embedder, question)
        assert choice is not None and choice.name == expected, (question, choice)
        assert choice.similarity is not None
        assert (choice.similarity >= 0.6) == bool(expected)


async def test_off_and_fixed_modes_never_route(embedder):
    off = ExpertChooser(ExpertsConfig(mode="off"), _listing, embedder)
    assert await _choose(off, embedder, "What is the capital of Peru?") is None
    fixed = ExpertChooser(ExpertsConfig(mode="merged"), _listing, embedder)
    choice = await _choose(fixed, embedder, "How many legs does a spider have?")
    assert choice is not None and choice.name == "merged" and choice.similarity is None


async def test_an_unreachable_cloud_means_the_base_model(embedder):
    async def down() -> tuple[ExpertInfo, ...]:
        raise ConnectionError("cloud unreachable")

    chooser = ExpertChooser(ExpertsConfig(), down, embedder)
    assert not await chooser.ready()
    assert await _choose(chooser, embedder, "What is the capital of Peru?") is None


async def test_a_question_about_another_relation_of_a_subject_goes_to_the_base_model(embedder):
    """Experts that never hurt: close to a fact by its subject is not enough, the relation must be the table's."""
    only_capitals = ExpertChooser(ExpertsConfig(min_similarity=0.6), _capitals_only, embedder)
    assert await only_capitals.ready()
    for question, expected in [
        ("Which continent is Peru in?", ""),
        ("What is the currency of Japan?", ""),
        ("What is the capital of France?", ""),  # the table does not hold France
        ("Do you know the capital of Egypt?", "capitals"),
        ("What's Norway's capital city?", "capitals"),
    ]:
        choice = await _choose(only_capitals, embedder, question)
        assert choice is not None and choice.name == expected, (question, choice)


async def _capitals_only() -> tuple[ExpertInfo, ...]:
    return EXPERTS[:1]


def test_a_table_template_and_its_subjects():
    template = table_template(EXPERTS[0].index_questions)
    assert template is not None and template.masked == "What is the capital of it?"
    assert template.subjects == COUNTRIES
    assert template.mask("and NORWAY's capital?") == "and it's capital?" and template.mask("Perugia?") is None
    assert table_template(("What is 2+2?", "Who wrote Hamlet?")) is None, "free-form questions have no frame"
