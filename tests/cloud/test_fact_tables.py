"""Fact tables: both layouts load, and every malformed table is refused with its line and field named."""

from __future__ import annotations

import pytest

from cloud.experts.facts import HELD_OUT_PHRASINGS, TRAIN_PHRASINGS, FactTableError, load_facts


def test_csv_and_jsonl_load_with_several_answers(tmp_path):
    csv_path = tmp_path / "capitals.csv"
    csv_path.write_text("subject,relation,answer\nPeru,capital,Lima\nBolivia,capital,Sucre|La Paz\n")
    facts = load_facts(csv_path)
    assert [f.answers for f in facts] == [("Lima",), ("Sucre", "La Paz")]
    assert facts[0].questions(TRAIN_PHRASINGS)[0] == "What is the capital of Peru?"
    assert not set(facts[0].questions(TRAIN_PHRASINGS)) & set(facts[0].questions(HELD_OUT_PHRASINGS))

    jsonl = tmp_path / "misc.jsonl"
    jsonl.write_text('{"question": "Who wrote Hamlet?", "answers": ["Shakespeare"]}\n\n'
                     '{"subject": "Kenya", "relation": "currency", "answer": "KES"}\n')  # fmt: skip
    facts = load_facts(jsonl)
    assert facts[0].questions(TRAIN_PHRASINGS) == ["Who wrote Hamlet?"] and facts[1].domain == "currency"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("a.csv", "subject,relation,answer\nPeru,capital,Lima\nChile,,Santiago\n", ":3: field 'relation'"),
        ("b.csv", "subject,relation,answer\nPeru,capital,Lima,extra\n", ":2: more fields"),
        ("c.csv", "", ":1: no header"),
        ("d.jsonl", '{"subject": "Peru", "relation": "capital", "answer": "Lima"}\n{oops\n', ":2: not JSON"),
        ("e.jsonl", '["Peru", "capital", "Lima"]\n', ":1: expected an object"),
        ("f.jsonl", '{"question": "Who?", "answers": ""}\n', ":1: field 'answers' is empty"),
        ("g.jsonl", '{"subject": 5, "relation": "capital", "answer": "x"}\n', ":1: field 'subject' must be text"),
        ("h.csv", "subject,relation,answer\n", "has no facts"),
    ],
)
def test_malformed_table_names_line_and_field(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FactTableError) as err:
        load_facts(path)
    assert expected in str(err.value) and str(path) in str(err.value)
