"""Question pairs for the semantic cache: per contrast class, a cached question, a different question that names the
same things, and a paraphrase of the cached one; templates filled from real data (countryinfo's countries, their
continents and neighbours; unit conversions; months; arithmetic), never a pair written by hand."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    kind: str
    cached: str
    contrast: str
    paraphrase: str


@dataclass(frozen=True)
class Country:
    name: str
    region: str
    neighbours: tuple[str, ...]


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
UNITS = (
    ("centimeters", "meters"),
    ("meters", "kilometers"),
    ("grams", "kilograms"),
    ("seconds", "minutes"),
    ("minutes", "hours"),
    ("hours", "days"),
    ("milliliters", "liters"),
    ("inches", "feet"),
)
RELATIONS = ("capital", "currency", "official language", "largest city", "population", "area")


def countries() -> list[Country]:
    import countryinfo

    every = countryinfo.all_countries()
    names = {c.iso(3): c.name() for c in every if c.iso()}
    found = []
    for c in every:
        if region := c.region():
            neighbours = tuple(names[b] for b in c.borders() or () if b in names)
            found.append(Country(c.name(), region, neighbours))
    return found


def _country_pairs(rng: random.Random, pool: list[Country], n: int) -> list[Pair]:
    pairs = []
    for _ in range(n):
        a, b = rng.sample(pool, 2)
        relation, other = rng.sample(RELATIONS, 2)
        ordinal, other_ordinal = rng.sample(ORDINALS, 2)
        border = next(iter(a.neighbours), b.name)
        pairs += [
            Pair(
                "entity",
                f"What is the capital of {a.name}?",
                f"What is the capital of {b.name}?",
                f"What's {a.name}'s capital city?",
            ),
            Pair(
                "negation",
                f"Is {a.name} in {a.region}?",
                f"Is {a.name} not in {a.region}?",
                f"Is {a.name} located in {a.region}?",
            ),
            Pair(
                "negation",
                f"Does {a.name} border {border}?",
                f"Doesn't {a.name} border {border}?",
                f"Does {a.name} share a border with {border}?",
            ),
            Pair(
                "antonym prefix",
                f"Is {a.name} an independent country?",
                f"Is {a.name} a dependent country?",
                f"Is {a.name} an independent nation?",
            ),
            Pair(
                "comparative",
                f"Is {a.name} larger than {b.name}?",
                f"Is {a.name} smaller than {b.name}?",
                f"Is {a.name} larger in area than {b.name}?",
            ),
            Pair(
                "arguments swapped",
                f"Is {a.name} more populous than {b.name}?",
                f"Is {b.name} more populous than {a.name}?",
                f"Is {a.name} more populous than {b.name} is?",
            ),
            Pair(
                "superlative",
                f"What is the largest country in {a.region}?",
                f"What is the smallest country in {a.region}?",
                f"Which country in {a.region} is the largest?",
            ),
            Pair(
                "ordinal",
                f"What is the {ordinal} largest country in {a.region}?",
                f"What is the {other_ordinal} largest country in {a.region}?",
                f"Which is the {ordinal} largest country in {a.region}?",
            ),
            Pair(
                "lower-case noun",
                f"What is the {relation} of {a.name}?",
                f"What is the {other} of {a.name}?",
                f"What's the {relation} of {a.name}?",
            ),
            Pair(
                "quantifier",
                f"Do all countries in {a.region} use the euro?",
                f"Do some countries in {a.region} use the euro?",
                f"Do all the countries in {a.region} use the euro?",
            ),
            Pair(
                "direction",
                f"Which country lies north of {a.name}?",
                f"Which country lies south of {a.name}?",
                f"Which country is north of {a.name}?",
            ),
        ]
    return pairs


def _number_pairs(rng: random.Random, n: int) -> list[Pair]:
    pairs = []
    for _ in range(n):
        x, y, u, v = rng.sample(range(2, 99), 4)
        small, big = rng.choice(UNITS)
        other_small = rng.choice([u for u, _ in UNITS if u not in (small, big)])
        k = rng.randint(2, 12)
        month = rng.randrange(1, 10)
        pairs += [
            Pair("number", f"What is {x} plus {y}?", f"What is {x} plus {y + 1}?", f"What's {x} + {y}?"),
            Pair("operand order", f"What is {x} minus {y}?", f"What is {y} minus {x}?", f"What's {x} - {y}?"),
            Pair(
                "operand order", f"What is {x} divided by {y}?", f"What is {y} divided by {x}?", f"What is {x} / {y}?"
            ),
            Pair("operator", f"What is {u} times {v}?", f"What is {u} plus {v}?", f"What's {u} * {v}?"),
            Pair(
                "reversed conversion",
                f"How many {small} are in {k} {big}?",
                f"How many {big} are in {k} {small}?",
                f"How many {small} are there in {k} {big}?",
            ),
            Pair(
                "unit",
                f"How many {small} are in {k + 20} {big}?",
                f"How many {other_small} are in {k + 20} {big}?",
                f"How many {small} are in {k + 20} {big} exactly?",
            ),
            Pair(
                "direction",
                f"What month comes after {MONTHS[month]}?",
                f"What month comes before {MONTHS[month]}?",
                f"Which month comes after {MONTHS[month]}?",
            ),
            Pair(
                "ordinal",
                f"What is the {ORDINALS[month - 1]} month of the year?",
                f"What is the {ORDINALS[month]} month of the year?",
                f"Which month is the {ORDINALS[month - 1]} month of the year?",
            ),
            Pair("negation", f"Is {x} a prime number?", f"Is {x} not a prime number?", f"Is the number {x} prime?"),
            Pair(
                "antonym prefix",
                f"Is {x} divisible by {y}?",
                f"Is {x} indivisible by {y}?",
                f"Is {x} evenly divisible by {y}?",
            ),
        ]
    return pairs


def pairs(n: int, seed: int = 0) -> list[Pair]:
    """About 21 n pairs (n per template), without duplicate cached questions."""
    rng = random.Random(seed)
    every = _country_pairs(rng, countries(), n) + _number_pairs(rng, n)
    seen: set[str] = set()
    unique = []
    for pair in every:
        if pair.cached not in seen and pair.contrast not in seen:
            seen |= {pair.cached, pair.contrast}
            unique.append(pair)
    return unique
