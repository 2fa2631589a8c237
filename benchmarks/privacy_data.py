"""Generated requests for the privacy benchmark: each entity type in varied positions, formats and chat turns,
and as many clean questions (faker's data; a fixed seed makes every run the same set)."""

from __future__ import annotations

import random
import secrets as _secrets
import string
from dataclasses import dataclass

from faker import Faker

from edge.calibration.labeled import builtin

# The types the benchmark plants (crypto wallets are detected too, but faker has none).
TYPES = ("email", "phone", "card", "iban", "ip", "ssn", "secret", "person", "location")
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT")
STRUCTURED = ("email", "phone", "card", "iban", "ip", "ssn", "secret")
# How the value is introduced, per type; "{v}" is the value.
PHRASES = {
    "email": ["my email is {v}", "write to {v}", "the address {v}", "{v}"],
    "phone": ["my number is {v}", "call {v}", "the phone {v}", "{v}"],
    "card": ["my card {v}", "card number {v}", "the Visa {v}", "{v}"],
    "iban": ["my IBAN is {v}", "transfer to {v}", "account {v}", "{v}"],
    "ip": ["the server at {v}", "host {v}", "my IP is {v}", "{v}"],
    "ssn": ["my SSN is {v}", "social security number {v}", "SSN: {v}", "{v}"],
    "secret": ["the API key {v}", "token {v}", "export KEY={v}", "{v}"],
    "person": ["{v}", "my colleague {v}", "{v} from accounting", "my friend {v}"],
    "location": ["we live in {v}", "the office in {v}", "near {v}", "{v}"],
}
FRAMES = [
    "Draft a reply saying I can't make it on Friday; {p}.",
    "{P} - please rewrite this reminder more politely.",
    "Summarize this note: {p}, and the meeting moved to Thursday at 3 pm.",
    "Can you check the grammar of this sentence: {p} is what you need.",
    "Translate to French: {p}.",
    "Remind me tomorrow morning about {p}",
]
CLEAN = [
    "What is the boiling point of water in Fahrenheit?",
    "Rewrite this sentence more politely: send the report by Friday.",
    "Summarize: the meeting moved to Thursday at 3 pm and lunch is at 12:30.",
    "How many days are there in a leap year?",
    "Translate to French: the train leaves at 7 in the morning.",
    "What is 15 percent of 240?",
    "Write a haiku about autumn leaves.",
    "Explain what a hash table is in two sentences.",
    "What year did the Second World War end?",
    "Give me three tips to sleep better.",
    "How do I convert 30 degrees Celsius to Fahrenheit?",
    "Draft a reply saying the package arrived damaged and I want a refund.",
    "Which planet is the largest in the solar system?",
    "Can you check the grammar: me and him goes to the market on Sundays.",
    "List the primary colors.",
    "What does HTTP status 404 mean?",
    "Remind me to water the plants every 3 days.",
    "How long does it take to boil an egg?",
    "What is the square root of 144?",
    "Rewrite this in a formal tone: we can't make it, sorry about that.",
]


# Everyday phrases with numbers, times, amounts and versions, and nothing personal: set in the same frames.
CLEAN_PHRASES = [
    "the report is due at 5 pm",
    "the budget grew 12% in 2023",
    "order 4521 shipped on March 3",
    "the invoice total is $1,250.00",
    "the train leaves at 07:45 from platform 9",
    "version 2.4.1 fixes the login bug",
    "the meeting room on floor 3",
    "we need 250 grams of flour",
    "the flight lands at 18:20",
    "the warranty lasts 24 months",
    "room 101 is booked until noon",
    "the score was 3-2 after extra time",
    "tickets cost 45 euros each",
    "the deadline moved to 15 June",
    "the package weighs 2.5 kg",
    "the server restarts every 6 hours",
    "the survey had 1,024 answers",
    "chapter 7 of the handbook",
    "the temperature hit 38 degrees",
    "the recipe serves 4 people",
]


@dataclass(frozen=True)
class Sample:
    kind: str  # the planted type; "" for a clean question
    value: str  # the planted value ("" when clean)
    messages: tuple[tuple[str, str], ...]  # (role, content) turns; the value is in one of them
    source: str = "generated"  # clean ones: "labeled" (the built-in sets) or "everyday"


def _grouped(raw: str, rng: random.Random) -> str:
    sep = rng.choice(["", " ", "-"])
    return sep.join(raw[i : i + 4] for i in range(0, len(raw), 4)) if sep else raw


def _secret(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    body = "".join(rng.choice(alnum) for _ in range(36))
    return rng.choice(
        [
            f"sk-proj-{body}",
            f"ghp_{body}",
            "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
            f"xoxb-{rng.randrange(10**11)}-{body[:24]}",
            f"glpat-{body[:20]}",
            _secrets.token_urlsafe(30) if rng.random() < 0.5 else body,
        ]
    )


def value_of(kind: str, fake: Faker, rng: random.Random) -> str:
    if kind == "email":
        return fake.email()
    if kind == "phone":
        return fake.phone_number()
    if kind == "card":
        return _grouped(fake.credit_card_number(), rng)
    if kind == "iban":
        return _grouped(fake.iban(), rng) if rng.random() < 0.5 else fake.iban()
    if kind == "ip":
        return fake.ipv6() if rng.random() < 0.3 else fake.ipv4()
    if kind == "ssn":
        return Faker("en_US").ssn() if fake.locales[0] != "en_US" else fake.ssn()
    if kind == "secret":
        return _secret(rng)
    if kind == "person":
        return fake.name() if rng.random() < 0.7 else f"{fake.first_name()} {fake.last_name()}"
    return fake.city()


def personal_samples(n: int, seed: int = 0) -> list[Sample]:
    """`n` requests, the types in turn; a third of them chat turns with the value in the history."""
    rng = random.Random(seed)
    fakers = {locale: Faker(locale) for locale in LOCALES}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed + i)
    samples = []
    for i in range(n):
        kind = TYPES[i % len(TYPES)]
        fake = fakers[rng.choice(LOCALES) if kind in ("phone", "iban", "person") else "en_US"]
        value = value_of(kind, fake, rng)
        phrase = rng.choice(PHRASES[kind]).format(v=value)
        text = rng.choice(FRAMES).format(p=phrase, P=phrase[0].upper() + phrase[1:])
        turns: tuple[tuple[str, str], ...] = (("user", text),)
        if i % 3 == 2:
            turns += (("assistant", "Noted."), ("user", "Now make it shorter."))
        samples.append(Sample(kind, value, turns))
    return samples


def clean_samples(n: int, seed: int = 0) -> list[Sample]:
    """Half from the built-in labeled sets, half everyday requests with numbers, times and no personal data."""
    rng = random.Random(seed)
    labeled = [item.question for item in builtin()]
    picked = [(q, "labeled") for q in rng.sample(labeled, min(n // 2, len(labeled)))]
    everyday = CLEAN + [frame.format(p=p, P=p[0].upper() + p[1:]) for frame in FRAMES for p in CLEAN_PHRASES]
    picked += [(everyday[i % len(everyday)], "everyday") for i in range(n - len(picked))]
    return [Sample("", "", (("user", q),), source) for q, source in picked]


def long_prompt(samples: list[Sample], chars: int, rng: random.Random) -> str:
    """About `chars` characters of request text made of several samples (the latency measure)."""
    text = ""
    while len(text) < chars:
        text += " ".join(content for _, content in rng.choice(samples).messages) + " "
    return text[:chars]
