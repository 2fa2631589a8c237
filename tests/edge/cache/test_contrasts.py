"""The contrast guard (pure logic): one pair per class refused, one paraphrase per class accepted."""

from __future__ import annotations

import pytest

from edge.cache.contrasts import contrast, same_question, tokens

# (class, cached question, a different question, a paraphrase of the cached one)
CASES = [
    ("negation", "Is a tomato a fruit?", "Is a tomato not a fruit?", "Is the tomato a fruit?"),
    ("contracted negation", "Is Lima in Peru?", "Isn't Lima in Peru?", "Is Lima located in Peru?"),
    (
        "antonym prefix",
        "Is it possible to divide by zero?",
        "Is it impossible to divide by zero?",
        "Is it possible to divide a number by zero?",
    ),
    ("direction", "What day comes after Monday?", "What day comes before Monday?", "Which day comes after Monday?"),
    ("comparative", "Is gold heavier than silver?", "Is gold lighter than silver?", "Is gold heavier than silver is?"),
    ("superlative", "What is the largest ocean?", "What is the smallest ocean?", "Which ocean is the largest?"),
    (
        "ordinal",
        "Who was the first president of Kenya?",
        "Who was the second president of Kenya?",
        "Who was Kenya's first president?",
    ),
    (
        "ordinal inserted",
        "Who was the president of Kenya?",
        "Who was the last president of Kenya?",
        "Who was president of Kenya?",
    ),
    ("operand order", "What is 7 minus 3?", "What is 3 minus 7?", "what's 7 - 3?"),
    ("division order", "What is 12 divided by 4?", "What is 4 divided by 12?", "What is 12 / 4?"),
    ("conversion order", "Convert 10 km to miles", "Convert 10 miles to km", "Please convert 10 km to miles"),
    ("operator", "What is 6 plus 3?", "What is 6 times 3?", "What's 6 + 3?"),
    ("unit", "How many meters are in a mile?", "How many feet are in a mile?", "How many meters are in one mile?"),
    (
        "lower-case noun",
        "How many legs does a spider have?",
        "How many legs does an ant have?",
        "How many legs do spiders have?",
    ),
    ("quantifier", "Do all birds fly?", "Do some birds fly?", "Can all birds fly?"),
    ("quantifier inserted", "Can birds swim?", "Can all birds swim?", "Are birds able to swim?"),
    ("entity", "What is the capital of France?", "What is the capital of Spain?", "what's France's capital city?"),
    ("number", "What is 12 plus 5?", "What is 12 plus 6?", "What's 12 + 5?"),
    (
        "reversed conversion",
        "How many centimeters are in 9 meters?",
        "How many meters are in 9 centimeters?",
        "How many centimeters are there in 9 meters?",
    ),
    (
        "adjacent words swapped",
        "How many centimeters are in a meter?",
        "How many meters are in a centimeter?",
        "How many centimeters are there in a meter?",
    ),
    ("arguments swapped", "Is Peru larger than Chile?", "Is Chile larger than Peru?", "Is Peru larger than Chile is?"),
]


@pytest.mark.parametrize(("kind", "cached", "other", "paraphrase"), CASES, ids=[c[0] for c in CASES])
def test_each_contrast_class_is_refused_and_its_paraphrase_accepted(kind, cached, other, paraphrase):
    why = contrast(cached, other)
    assert why is not None, f"{kind}: {other!r} must not be served {cached!r}'s answer"
    assert contrast(other, cached) is not None, "the guard is symmetric"
    assert same_question(cached, paraphrase), f"{kind}: {paraphrase!r} asks the same: {contrast(cached, paraphrase)}"


def test_the_reason_names_the_rule_and_the_words():
    assert str(contrast("What is 7 minus 3?", "What is 3 minus 7?")) == "operand order: minus"
    assert contrast("Is a tomato a fruit?", "Is a tomato not a fruit?").words == ("not",)
    assert contrast("Is gold heavy?", "Is gold light?").rule == "substitution"


def test_tokens_spell_out_contractions_symbols_and_plurals():
    assert tokens("Isn't 7-3 = 4? It can't be 1,000 inches") == [
        "is",
        "not",
        "7",
        "minus",
        "3",
        "4",
        "it",
        "can",
        "not",
        "be",
        "1000",
        "inch",
    ]
    assert tokens("How many countries") == ["how", "many", "country"]


def test_one_moved_phrase_is_a_paraphrase_two_swapped_words_are_not():
    assert same_question("What is the capital city of France?", "What is France's capital city?")
    assert same_question("Which language is spoken in Brazil?", "In Brazil, which language is spoken?")
    assert contrast("What is 7 times 3?", "What is 3 times 7?") is not None, "refused: a lost hit, never a wrong one"


def test_a_double_negation_is_not_the_same_as_one():
    assert contrast("Is it not true that no bird swims?", "Is it true that no bird swims?") is not None
