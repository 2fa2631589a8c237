"""Labeled sets and the grader (pure logic on real data from countryinfo)."""

from __future__ import annotations

import pytest

from edge.calibration.labeled import LabeledItem, arithmetic, builtin, capitals, is_correct, load_jsonl, split
from shared.errors import InvalidRequest
from shared.prompts import FEW_SHOT_QA

PARIS = LabeledItem("c:fr", "What is the capital of France?", ("Paris",))


@pytest.mark.parametrize(
    "answer,ok",
    [
        ("Paris", True),
        (" paris.", True),
        ("Paris, France", True),
        ("The Paris", True),
        ("Parisian", False),
        ("Pari", False),
        ("Lyon", False),
        ("", False),
    ],
)
def test_text_grader(answer, ok):
    assert is_correct(answer, PARIS) is ok


def test_a_singular_answer_is_also_accepted_in_the_plural():
    paraguayan = LabeledItem("d:py", "What is the demonym for people from Paraguay?", ("Paraguayan",))
    assert is_correct("Paraguayans", paraguayan) and is_correct("paraguayan", paraguayan)
    assert not is_correct("Paraguay", paraguayan) and not is_correct("Paraguayanese", paraguayan)
    islander = LabeledItem("d:fk", "What is the demonym for people from the Falkland Islands?", ("Falkland Islander",))
    assert is_correct("Falkland Islanders", islander)
    assert is_correct("Cities", LabeledItem("w", "Plural?", ("city",))) and is_correct(
        "boxes", LabeledItem("b", "?", ("box",))
    )


def test_aliases_accents_and_numbers():
    bogota = LabeledItem("c:co", "Capital of Colombia?", ("Bogotá", "Bogota"))
    assert is_correct("Bogota", bogota) and is_correct("BOGOTÁ", bogota)
    seven = LabeledItem("a", "What is 3 plus 4?", ("7",), "number")
    assert is_correct("7", seven) and is_correct("It is 7.", seven) and is_correct("7.0", seven)
    assert not is_correct("3 + 4 = 8", seven) and not is_correct("seven", seven)


def test_builtin_sets_are_real_and_exclude_prompt_examples():
    caps = capitals()
    assert len(caps) > 200
    assert any(i.question == "What is the capital of France?" and "Paris" in i.answers for i in caps)
    everything = builtin()
    assert not {q for q, _ in FEW_SHOT_QA} & {i.question for i in everything}
    assert {i.topic for i in arithmetic(5)} == {"arithmetic-1", "arithmetic-2", "arithmetic-3"}


def test_split_is_disjoint_and_deterministic():
    items = builtin(["capitals"])
    cal, ev = split(items, seed=3)
    assert not {i.id for i in cal} & {i.id for i in ev}
    assert len(cal) + len(ev) == len(items)
    assert [i.id for i in split(items, seed=3)[1]] == [i.id for i in ev]
    assert [i.id for i in split(items, seed=4)[1]] != [i.id for i in ev]


def test_jsonl_loading_and_errors(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(
        '{"question": "2+2?", "answers": ["4"], "kind": "number"}\n\n{"question": "Sky?", "answers": "blue"}\n'
    )
    items = load_jsonl(good)
    assert [i.answers for i in items] == [("4",), ("blue",)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "no answers"}\n')
    with pytest.raises(InvalidRequest, match=r"bad\.jsonl:1"):
        load_jsonl(bad)
