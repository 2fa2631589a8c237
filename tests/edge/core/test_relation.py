"""Questions reduced to what they ask (pure logic)."""

from __future__ import annotations

import pytest

from edge.core.relation import relation_text


@pytest.mark.parametrize(
    ("question", "relation"),
    [
        ("What is the capital of Burkina Faso?", "What is the capital of X?"),
        ("What is 7 plus 5 minus 3?", "What is X plus X minus X?"),
        ("How many grams are in 3.5 kilograms?", "How many grams are in X kilograms?"),
        ("What do you call people from the United States of America?", "What do you call people from the X?"),
        ("Which continent is Peru in?", "Which continent is X in?"),
        ("Write a poem about the sea.", "Write a poem about the sea."),
    ],
)
def test_numbers_and_names_are_masked(question, relation):
    assert relation_text(question) == relation
