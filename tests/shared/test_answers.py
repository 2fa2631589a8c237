"""Whether an edge draft says what the cloud answered (agreement labels): pure logic."""

from __future__ import annotations

import pytest

from shared.answers import draft_agrees


@pytest.mark.parametrize(
    ("draft", "cloud", "complete", "agrees"),
    [
        (" Paris", "Paris.", True, True),
        ("The Paris", " paris", True, True),
        ("Paris, France", "Paris", True, True),
        ("Paris", "Paris, the capital", True, True),
        ("Lyon", "Paris", True, False),
        ("", "Paris", True, False),
        ("Paris", "", True, None),
        (" Fun", "Funafuti", False, None),  # cut short before it could tell
        (" Funafuti and", "Funafuti", False, True),  # cut short after saying it
        (" Vai", "Funafuti", False, False),
        ("", "Funafuti", False, None),
    ],
)
def test_draft_agreement(draft, cloud, complete, agrees):
    assert draft_agrees(draft, cloud, complete) is agrees
