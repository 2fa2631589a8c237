"""Labeled questions for calibration and benchmarks: generated from real data, graded by rule.

Built-in sets come from the `countryinfo` package (capitals, regions, currency codes, calling codes,
subregions, demonyms), from arithmetic of graded difficulty and two-step arithmetic, and from unit
conversions, with fixed seeds. Users bring their own as JSONL: one object per line with `question`,
`answers` (accepted answers, aliases included) and optionally `id`, `kind` ("text" or "number"), `topic`.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

from shared.answers import normalize_answer, says
from shared.errors import InvalidRequest
from shared.prompts import FEW_SHOT_QA

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class LabeledItem:
    id: str
    question: str
    answers: tuple[str, ...]
    kind: Literal["text", "number"] = "text"
    topic: str = ""


def is_correct(answer: str, item: LabeledItem) -> bool:
    """Numbers: the first number in the answer equals the expected one. Text: the normalized answer equals an
    accepted answer or starts with one followed by a word boundary ("Paris, France" counts for Paris)."""
    if item.kind == "number":
        found = _NUMBER.search(answer.replace(",", ""))
        expected = [float(a) for a in item.answers if _NUMBER.fullmatch(a.strip())]
        return found is not None and float(found.group()) in expected
    got = normalize_answer(answer)
    return any(says(got, normalize_answer(a)) for a in item.answers)


def capitals() -> list[LabeledItem]:
    import countryinfo

    items = []
    for country in countryinfo.all_countries():
        capital = country.capital()
        capitals_ = capital if isinstance(capital, list) else [capital] if capital else []
        if capitals_:
            items.append(
                LabeledItem(
                    f"capital:{country.name()}",
                    f"What is the capital of {country.name()}?",
                    tuple(capitals_),
                    topic="capital",
                )
            )
    return items


def regions() -> list[LabeledItem]:
    import countryinfo

    aliases = {"Americas": ("Americas", "America", "North America", "South America")}
    return [
        LabeledItem(
            f"region:{c.name()}",
            f"Which continent is {c.name()} in?",
            aliases.get(c.region() or "", (c.region() or "",)),
            topic="region",
        )
        for c in countryinfo.all_countries()
        if c.region()
    ]


def arithmetic(n_per_level: int = 40, seed: int = 7) -> list[LabeledItem]:
    """Three levels: one-digit sums, two-digit sums, two-digit by one-digit products."""
    rng = random.Random(seed)
    items = []
    for level, (lo, hi, lo2, hi2, op) in enumerate(
        [(1, 9, 1, 9, "+"), (10, 99, 10, 99, "+"), (10, 99, 2, 9, "*")], start=1
    ):
        for i in range(n_per_level):
            a, b = rng.randint(lo, hi), rng.randint(lo2, hi2)
            value = a + b if op == "+" else a * b
            word = "plus" if op == "+" else "times"
            items.append(
                LabeledItem(
                    f"arith{level}:{i}", f"What is {a} {word} {b}?", (str(value),), "number", f"arithmetic-{level}"
                )
            )
    return items


def _country_field(name: str, question: str, field: str, kind: Literal["text", "number"] = "text") -> list[LabeledItem]:
    """One question per country from a countryinfo field (a string, a list, or a comma-separated string)."""
    import countryinfo

    items = []
    for country in countryinfo.all_countries():
        value = getattr(country, field)()
        values = value if isinstance(value, list) else str(value or "").split(",")
        answers = tuple(v.strip() for v in values if v and v.strip())
        if answers:
            items.append(
                LabeledItem(f"{name}:{country.name()}", question.format(c=country.name()), answers, kind, name)
            )
    return items


def currencies() -> list[LabeledItem]:
    return _country_field("currency", "What is the ISO currency code of {c}?", "currencies")


def calling_codes() -> list[LabeledItem]:
    """Text, not numbers: codes like 1-876 (Jamaica) are accepted with or without the dash."""
    items = _country_field("calling_code", "What is the international calling code of {c}?", "calling_codes")
    return [
        replace(i, answers=tuple(dict.fromkeys(a for c in i.answers for a in (c, c.replace("-", ""))))) for i in items
    ]


def subregions() -> list[LabeledItem]:
    return _country_field("subregion", "Which subregion of the world is {c} in?", "subregion")


def demonyms() -> list[LabeledItem]:
    return _country_field("demonym", "What is the demonym for people from {c}?", "demonym")


_UNITS = (
    ("centimeters", "meters", 100),
    ("meters", "kilometers", 1000),
    ("grams", "kilograms", 1000),
    ("minutes", "hours", 60),
    ("seconds", "minutes", 60),
    ("hours", "days", 24),
    ("days", "weeks", 7),
    ("months", "years", 12),
    ("milliliters", "liters", 1000),
    ("inches", "feet", 12),
)


def unit_conversions(n: int = 80, seed: int = 11) -> list[LabeledItem]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        small, big, factor = _UNITS[i % len(_UNITS)]
        k = rng.randint(2, 12)
        items.append(
            LabeledItem(f"units:{i}", f"How many {small} are in {k} {big}?", (str(k * factor),), "number", "units")
        )
    return items


def multistep(n: int = 80, seed: int = 13) -> list[LabeledItem]:
    """Two operations read left to right: 'What is 7 plus 5 minus 3?'."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        a, b, c = rng.randint(2, 30), rng.randint(2, 30), rng.randint(2, 20)
        first, second = rng.choice(["plus", "minus"]), rng.choice(["plus", "minus"])
        value = a + b if first == "plus" else a - b
        value = value + c if second == "plus" else value - c
        items.append(
            LabeledItem(
                f"multistep:{i}", f"What is {a} {first} {b} {second} {c}?", (str(value),), "number", "multistep"
            )
        )
    return items


BUILTIN_SETS = {
    "capitals": capitals,
    "regions": regions,
    "arithmetic": arithmetic,
    "currencies": currencies,
    "calling_codes": calling_codes,
    "subregions": subregions,
    "demonyms": demonyms,
    "units": unit_conversions,
    "multistep": multistep,
}


def builtin(names: list[str] | None = None) -> list[LabeledItem]:
    """The chosen built-in sets ("all" or none: every set), minus the questions the few-shot prompt answers."""
    chosen = list(BUILTIN_SETS) if not names or names == ["all"] else names
    unknown = set(chosen) - set(BUILTIN_SETS)
    if unknown:
        raise InvalidRequest(f"unknown labeled set(s) {sorted(unknown)}; choose from {sorted(BUILTIN_SETS)}")
    in_prompt = {q for q, _ in FEW_SHOT_QA}
    return [item for name in chosen for item in BUILTIN_SETS[name]() if item.question not in in_prompt]


def split(items: list[LabeledItem], seed: int = 0, calibration_fraction: float = 0.5):
    """Disjoint (calibration, evaluation) lists; the same seed always gives the same split."""
    shuffled = sorted(items, key=lambda i: i.id)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * calibration_fraction)
    return shuffled[:cut], shuffled[cut:]


def load_jsonl(path: Path) -> list[LabeledItem]:
    items = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            answers = raw["answers"] if isinstance(raw["answers"], list) else [raw["answers"]]
            items.append(
                LabeledItem(
                    str(raw.get("id", f"line{n}")),
                    str(raw["question"]),
                    tuple(str(a) for a in answers),
                    raw.get("kind", "text"),
                    raw.get("topic", ""),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InvalidRequest(f"{path}:{n}: expected {{question, answers}} JSON ({exc})") from exc
    if not items:
        raise InvalidRequest(f"{path} holds no labeled questions")
    return items


def save_jsonl(items: list[LabeledItem], path: Path) -> None:
    Path(path).write_text("".join(json.dumps(asdict(i)) + "\n" for i in items), encoding="utf-8")
