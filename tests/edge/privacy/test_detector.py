"""Every entity type found where it is (real recognizers and the real NER model), and public geography not."""

from __future__ import annotations

import pytest

from edge.calibration.labeled import builtin
from edge.core.redaction import KINDS
from edge.privacy.detector import PersonalDataDetector

pytestmark = pytest.mark.model  # loads spaCy's English pipeline

ALL = frozenset(KINDS)
CASES = [
    ("email", "Draft a reply to jane.doe@example.com saying I can't make it on Friday.", "jane.doe@example.com"),
    ("phone", "My number is (415) 555-0132, call after six.", "(415) 555-0132"),
    ("phone", "Ring me on +44 20 7946 0958 please", "+44 20 7946 0958"),
    ("card", "Charge 4111 1111 1111 1111 for the tickets", "4111 1111 1111 1111"),
    ("card", "the 19-digit card 4003-4855-9097-7658-230 was declined", "4003-4855-9097-7658-230"),
    ("iban", "Send it to DE89 3704 0044 0532 0130 00 today", "DE89 3704 0044 0532 0130 00"),
    ("ip", "The server at 10.20.30.40 is down", "10.20.30.40"),
    ("ssn", "My SSN is 536-22-8726.", "536-22-8726"),
    ("secret", "Why does sk-proj-Xq3vB8mT2kLp9RzW4nYc7dHf fail?", "sk-proj-Xq3vB8mT2kLp9RzW4nYc7dHf"),
    ("secret", "aws key AKIAIOSFODNN7EXAMPLE leaked", "AKIAIOSFODNN7EXAMPLE"),
    ("secret", "token=Zx8Qv3Lm0Rt7Yp2Wn5Kb9Hc4Jd6 in my config", "Zx8Qv3Lm0Rt7Yp2Wn5Kb9Hc4Jd6"),
    ("person", "Tell Maria Garcia that the meeting moved.", "Maria Garcia"),
    ("person", "Please tell Sofia Garcia that the meeting moved.", "Sofia Garcia"),  # Sofia is a capital too
    ("person", "Summarize: my colleague Jordan Mason will send it.", "Jordan Mason"),
    ("person", "Translate to French: Francesca Offredi called.", "Francesca Offredi"),
    ("location", "I live at 12 Oak Street in Springfield.", "Springfield"),
]


@pytest.fixture(scope="module")
def detector() -> PersonalDataDetector:
    d = PersonalDataDetector(ALL)
    d.warm()
    return d


@pytest.mark.parametrize(("kind", "text", "value"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_type_is_found_where_it_is(detector, kind, text, value):
    spans = detector.spans(text, ALL)
    assert (kind, value) in [(s.kind, text[s.start : s.end]) for s in spans]


def test_checksums_refuse_lookalikes(detector):
    """A card number failing Luhn and an IBAN failing mod 97 are not personal data."""
    assert detector.spans("Charge 4111 1111 1111 1112 now", ALL) == ()
    assert detector.spans("Send it to DE00 3704 0044 0532 0130 00 today", ALL) == ()


def test_public_geography_and_plain_numbers_are_not_personal(detector):
    clean = [item.question for item in builtin()]
    clean += ["Which river flows through Vienna and Budapest?", "What is 1234567 times 3?", "In 1990-1995 GDP grew."]
    flagged = [q for q in clean if detector.spans(q, ALL)]
    assert flagged == []


def test_a_structured_value_the_model_calls_a_name_stays_what_it_is(detector):
    text = "my IP is e005:b860:51ef:1922:fe43:c49f:1498:18d1 today"
    assert [s.kind for s in detector.spans(text, ALL)] == ["ip"]


def test_only_the_types_asked_for_are_reported(detector):
    text = "Tell Maria Garcia to email jane.doe@example.com"
    assert {s.kind for s in detector.spans(text, frozenset({"email"}))} == {"email"}
    assert {s.kind for s in detector.spans(text, ALL)} == {"email", "person"}
