"""The policy a query meets: the app's settings before the daemon's, a request only tightening, stop strings
checked with the rest, and the edge's draft redacted with what it adds."""

from __future__ import annotations

import pytest

from edge.core.query import Policy, Query
from edge.core.redaction import KINDS
from edge.privacy.detector import PersonalDataDetector
from edge.privacy.gate import PrivacyGate
from shared.config.privacy import NamespacePrivacy, PrivacyConfig
from shared.types import EdgeContext

pytestmark = pytest.mark.model  # the real detector, spaCy's NER included

CONFIG = PrivacyConfig(
    mode="redact",
    types={"location": "off"},
    namespaces={"notes": NamespacePrivacy(mode="local_only"), "plain": NamespacePrivacy(mode="off")},
)
TEXT = "We moved to Springfield; mail olga.petrova@example.net"


@pytest.fixture(scope="module")
def detector() -> PersonalDataDetector:
    return PersonalDataDetector(frozenset(KINDS))


async def _checked(detector, namespace: str, query: Query) -> Query:
    return await PrivacyGate(CONFIG, namespace, detector).scan(query)


async def test_the_apps_settings_come_before_the_daemons(detector):
    mail = await _checked(detector, "mail", Query(TEXT))
    assert mail.privacy.redacts and mail.privacy.kinds == ("email",)  # the daemon's location = off
    notes = await _checked(detector, "notes", Query(TEXT))
    assert notes.privacy.keep_local and notes.privacy.kinds == ("email", "location")  # its own mode first
    plain = await _checked(detector, "plain", Query(TEXT))
    assert not plain.privacy.found and plain.escalation().question == TEXT


async def test_a_request_only_tightens(detector):
    tightened = await _checked(detector, "mail", Query(TEXT, policy=Policy(privacy="local_only")))
    assert tightened.privacy.keep_local
    loosened = await _checked(detector, "notes", Query(TEXT, policy=Policy(privacy="off")))
    assert loosened.privacy.keep_local


async def test_stop_strings_and_the_draft_leave_redacted(detector):
    query = await _checked(detector, "mail", Query(TEXT, stop=("\nolga.petrova@example.net:",)))
    draft = "Sure: I will write to Olga.Petrova@Example.NET and to ivan.sokolov@example.org."
    query.privacy.learn(draft)
    request = query.escalation(EdgeContext(draft, 0.1))
    sent = f"{request.question} {request.sampling.stop} {request.edge_context.draft_answer}".lower()
    assert "petrova" not in sent and "sokolov" not in sent and "<email_2>" in sent
    assert query.privacy.redaction.restore("<EMAIL_2>") == "ivan.sokolov@example.org"


async def test_names_and_places_are_off_unless_asked_for(detector):
    text = "Tell Maria Garcia the flight to Springfield moved"
    default = await PrivacyGate(PrivacyConfig(), "", detector).scan(Query(text))
    assert not default.privacy.found
    named = await PrivacyGate(PrivacyConfig(names="redact"), "", detector).scan(Query(text))
    assert named.privacy.kinds == ("location", "person")
    assert not PrivacyConfig().acts_on_names([""]) and PrivacyConfig(names="local_only").acts_on_names([""])
